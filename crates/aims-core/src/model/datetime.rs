//! How dates and instants are written in register files.
//!
//! Instants (when something happened) are RFC 3339 timestamps with an offset, serialized with
//! `time::serde::rfc3339`; calendar dates (when a review is due) are ISO 8601 `YYYY-MM-DD`,
//! serialized with [`calendar_date`]. In the JSON Schemas both are strings with a `format`.

time::serde::format_description!(pub calendar_date, Date, "[year]-[month]-[day]");
