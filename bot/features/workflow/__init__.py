"""The Workflow Builder step "Upcoming training sessions" (a custom step, paid Slack plans)."""
