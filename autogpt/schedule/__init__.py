"""Commands that run on a cron line or when a watched file changes, with every run recorded."""
