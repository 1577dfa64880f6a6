//! The text tables `check` and `rotate --status` print: one printer, so that both align the
//! same way (characters, not bytes, so a `…` or a non-ASCII name keeps its column).

/// The header line and one line per row: each cell padded to its column's widest, two spaces
/// apart, trailing spaces trimmed.
pub fn lines<const N: usize>(headers: [&str; N], rows: &[[String; N]]) -> (String, Vec<String>) {
    let mut widths = headers.map(|header| header.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; N]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let body = rows
        .iter()
        .map(|row| line(row.each_ref().map(String::as_str)))
        .collect();
    (line(headers), body)
}

#[cfg(test)]
mod tests {
    use super::lines;

    #[test]
    fn columns_align_by_characters() {
        let (header, body) = lines(
            ["NAME", "STATE"],
            &[
                ["jwt_secret".to_string(), "ok".to_string()],
                ["ключ…".to_string(), "pending".to_string()],
            ],
        );
        assert_eq!(header, "NAME        STATE");
        assert_eq!(body, ["jwt_secret  ok", "ключ…       pending"]);
    }
}
