//! The error type of the ingest module: every way a file can fail to load,
//! each with a message that names the problem and, where there is one, the
//! line of the file that caused it.

/// Why a file could not be turned into a [`Dataset`](super::Dataset).
///
/// Line numbers are 1-based and count every line of the file, the header
/// included, as a text editor shows them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The file has no bytes, or only blank lines and comments.
    #[error("the file is empty: there is nothing to read")]
    Empty,

    /// The file is bigger than [`IngestOptions::max_bytes`](super::IngestOptions).
    #[error(
        "the file is {} ({size} bytes), larger than the allowed {} ({limit} bytes)",
        format_bytes(*size),
        format_bytes(*limit)
    )]
    TooLarge {
        /// Size of the file in bytes.
        size: usize,
        /// The limit it exceeded, in bytes.
        limit: usize,
    },

    /// The bytes are not valid UTF-8, so the file is binary or uses another
    /// text encoding.
    #[error(
        "line {line}: the file is not UTF-8 text (byte {byte} is invalid); \
         is it a binary file, or text saved in another encoding?"
    )]
    NotText {
        /// Line of the first invalid byte.
        line: usize,
        /// Offset of the first invalid byte from the start of the file (0-based).
        byte: usize,
    },

    /// The file starts with a UTF-16 byte-order mark: it is text, but not in
    /// UTF-8.
    #[error(
        "the file is UTF-16 text ({byte_order}; it starts with a byte-order mark), \
         not UTF-8; save it as UTF-8 (\"CSV UTF-8\" in spreadsheet programs)"
    )]
    Utf16 {
        /// `little-endian` or `big-endian`.
        byte_order: &'static str,
    },

    /// The file holds a NUL byte, which text files never do.
    #[error(
        "line {line}: the file holds a NUL byte, so it looks like a binary file \
         (or UTF-16 text), not a text table"
    )]
    BinaryData {
        /// Line of the first NUL byte.
        line: usize,
    },

    /// Every line holds only delimiters and blanks, so there is no value to
    /// read (a file of only commas).
    #[error(
        "the file holds no values: every line is only delimiters and blanks \
         (the first at line {line})"
    )]
    NoValues {
        /// The first such line.
        line: usize,
    },

    /// A quoted field opens and never closes, so the rest of the file would
    /// be read as one cell.
    #[error(
        "line {line}: a quote (\") opens a field that is never closed, so every line \
         after it would be read as one cell; close the quote or remove it"
    )]
    UnclosedQuote {
        /// Line of the opening quote.
        line: usize,
    },

    /// The file has a header line and nothing below it.
    #[error("the file has only a header line (line {header_line}) and no data rows")]
    HeaderOnly {
        /// Line of the header.
        header_line: usize,
    },

    /// The file has fewer than two data rows, too few for a time series.
    #[error("the file has only {rows} data row(s); at least 2 are needed for a time series")]
    TooFewRows {
        /// Number of usable data rows.
        rows: usize,
    },

    /// No column holds numbers (text only, or every column too damaged to use).
    #[error(
        "no numeric column: none of the {columns} column(s) holds numbers that can be used \
         as a sensor channel"
    )]
    NoNumericColumn {
        /// Number of columns in the file.
        columns: usize,
    },

    /// Every numeric column holds one value on every row.
    #[error("no numeric column that varies: every numeric column is constant ({names})")]
    NoVaryingColumn {
        /// The constant columns, comma-separated and quoted.
        names: String,
    },

    /// A line has a very different number of fields from the header (or the
    /// first line).
    #[error(
        "line {line}: {found} field(s) where line {first_line} has {expected}; \
         is the file cut off, or does a text cell hold an unquoted delimiter?"
    )]
    RaggedLine {
        /// The offending line.
        line: usize,
        /// Number of fields found on it.
        found: usize,
        /// Number of fields the table has.
        expected: usize,
        /// The line that set the expected count (header or first row).
        first_line: usize,
    },

    /// A line is split by another delimiter than the rest of the file.
    #[error(
        "line {line}: this line is separated by {found} but line {first_line} by \
         {expected}; use one delimiter throughout the file"
    )]
    MixedDelimiters {
        /// The offending line.
        line: usize,
        /// The delimiter that line uses, e.g. `` `;` ``.
        found: &'static str,
        /// The delimiter of the file, e.g. `` `,` ``.
        expected: &'static str,
        /// The line that set the delimiter (header or first row).
        first_line: usize,
    },

    /// A fleet file's unit, cycle or RUL columns cannot be used.
    #[error("{message}")]
    FleetColumns {
        /// What is wrong, with the line or the column names.
        message: String,
    },

    /// The delimited-text reader failed.
    #[error("line {line}: the file could not be read as delimited text: {message}")]
    Malformed {
        /// Line where reading failed.
        line: usize,
        /// What the reader reported.
        message: String,
    },
}

/// Formats a byte count for people: `512 bytes`, `3.4 KiB`, `256.0 MiB`.
pub(crate) fn format_bytes(bytes: usize) -> String {
    const KIB: f64 = 1024.0;

    let value = bytes as f64;
    if value < KIB {
        format!("{bytes} bytes")
    } else if value < KIB * KIB {
        format!("{:.1} KiB", value / KIB)
    } else if value < KIB * KIB * KIB {
        format!("{:.1} MiB", value / (KIB * KIB))
    } else {
        format!("{:.1} GiB", value / (KIB * KIB * KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_read_well() {
        assert_eq!(format_bytes(12), "12 bytes");
        assert_eq!(format_bytes(2048), "2.0 KiB");
        assert_eq!(format_bytes(256 * 1024 * 1024), "256.0 MiB");
    }

    #[test]
    fn too_large_names_size_and_limit() {
        let message = IngestError::TooLarge {
            size: 3 * 1024 * 1024,
            limit: 1024 * 1024,
        }
        .to_string();

        assert!(message.contains("3.0 MiB"), "{message}");
        assert!(message.contains("1.0 MiB"), "{message}");
        assert!(message.contains("3145728 bytes"), "{message}");
    }
}
