"""Pages for the site, rendered in memory."""
