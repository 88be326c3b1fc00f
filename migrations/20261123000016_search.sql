-- Full-text search (ORG-4) ranks the top results inside the index with the RUM extension
-- (Debian and PGDG ship it as postgresql-15-rum): ranking every match with ts_rank is what
-- makes common words slow. Creating it needs a superuser once; `docker/postgres` does that
-- for the compose stack, and a database where it exists already needs nothing here.
create extension if not exists rum;
