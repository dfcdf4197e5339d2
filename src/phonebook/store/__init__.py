"""All SQL lives here: tables, queries, dialect differences and migrations."""
