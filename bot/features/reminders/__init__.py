"""DM reminders before sessions: `/sessions remind …`, the Remind me button, trainers' reminders."""
