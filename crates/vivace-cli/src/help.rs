//! The text of the interactive `help` command.

/// What `help` prints.
pub const HELP: &str = "\
Commands of the CLI (case-insensitive, a trailing ';' is allowed):
  quit, exit      leave (Ctrl-D does too)
  clear           clear the screen
  history         list earlier statements (also on the up and down arrows)
  help            this text

Statements end with ';', or with '\\G' to print the rows vertically. Ctrl-C cancels the
running query, or clears the line being typed. Tab completes SQL keywords and the names
of catalogs, schemas and tables.

Statements worth knowing:
  SHOW CATALOGS [LIKE pattern]
  SHOW SCHEMAS [FROM catalog] [LIKE pattern]
  SHOW TABLES [FROM [catalog.]schema] [LIKE pattern]
  SHOW COLUMNS FROM table      (or DESCRIBE table)
  SHOW FUNCTIONS
  SHOW SESSION
  USE [catalog.]schema
  SET SESSION name = value     (RESET SESSION name)
  EXPLAIN [ANALYZE] query
";
