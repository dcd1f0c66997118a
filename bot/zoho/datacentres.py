"""Zoho data centres and their hosts: the accounts host issues tokens, People serves the LMS."""

DATA_CENTRES: dict[str, tuple[str, str]] = {
    "com": ("https://accounts.zoho.com", "https://people.zoho.com"),
    "eu": ("https://accounts.zoho.eu", "https://people.zoho.eu"),
    "in": ("https://accounts.zoho.in", "https://people.zoho.in"),
    "com.au": ("https://accounts.zoho.com.au", "https://people.zoho.com.au"),
    "jp": ("https://accounts.zoho.jp", "https://people.zoho.jp"),
    "ca": ("https://accounts.zohocloud.ca", "https://people.zohocloud.ca"),
    "sa": ("https://accounts.zoho.sa", "https://people.zoho.sa"),
    "com.cn": ("https://accounts.zoho.com.cn", "https://people.zoho.com.cn"),
}


def hosts_for(dc: str) -> tuple[str, str]:
    """(accounts URL, People URL) of a data centre key such as "eu"."""
    return DATA_CENTRES[dc]
