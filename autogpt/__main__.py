from autogpt.cli.main import main

main()
