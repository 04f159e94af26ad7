from orchgpt.cli import main

main()
