"""The only code that speaks HTTP to Zoho People."""
