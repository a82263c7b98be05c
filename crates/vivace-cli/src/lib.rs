//! `vivace cli`: an interactive and batch SQL client with the Trino CLI's flags, output
//! formats and habits. Built in steps (issue 4); so far, the output formats.

pub mod format;
