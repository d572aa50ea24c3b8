"""Reports for deputy directors and administrators."""
