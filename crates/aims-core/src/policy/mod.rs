//! Declarative guard policies: parsing with line and column, validation and compilation.
