"""What every page shares: rendering, the request's life (database, session, headers),
static files, error pages, and the pages and documents anyone may read."""
