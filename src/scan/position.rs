//! Byte offsets in a file's text to 1-based line and character column.

pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|index| index + 1));
        LineIndex { text, starts }
    }

    /// Byte offset where 1-based `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len())
    }

    /// The text of 1-based `line`, without its line ending.
    pub fn line_text(&self, line: usize) -> &'a str {
        let start = self.line_start(line);
        let end = self
            .starts
            .get(line)
            .map(|next| next - 1)
            .unwrap_or(self.text.len());
        let text = self.text.get(start..end.max(start)).unwrap_or("");
        text.strip_suffix('\r').unwrap_or(text)
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }

    /// The lines (sorted, once each) that hold one of the given offsets.
    pub fn lines_of(&self, offsets: impl Iterator<Item = usize>) -> Vec<usize> {
        let mut lines: Vec<usize> = offsets.map(|offset| self.line_of(offset)).collect();
        lines.dedup();
        lines
    }

    /// Byte range of 1-based `line`, without its line ending.
    pub fn line_range(&self, line: usize) -> (usize, usize) {
        let start = self.line_start(line);
        (start, start + self.line_text(line).len())
    }

    pub fn position(&self, offset: usize) -> (usize, usize) {
        let line = self.line_of(offset);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map(|before| before.chars().count())
            .unwrap_or(0)
            + 1;
        (line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_in_characters() {
        let index = LineIndex::new("ab\r\né=x\n");
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(4), (2, 1));
        assert_eq!(index.position(7), (2, 3));
        assert_eq!(index.line_text(1), "ab");
        assert_eq!(index.line_text(2), "é=x");
        assert_eq!(index.line_text(3), "");
    }
}
