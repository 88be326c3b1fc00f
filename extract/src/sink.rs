//! The one place text comes out of a parser: collapses whitespace and enforces the output cap
//! while text streams in, so no extractor builds more than `max_text_bytes` of output.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    None,
    Space,
    Newline,
}

/// Collects text: a run of whitespace becomes one space, or one newline if the run held a line
/// or paragraph break; control characters count as whitespace; leading and trailing whitespace
/// is dropped; the text stops at `max` bytes, at a character boundary.
#[derive(Debug)]
pub(crate) struct TextSink {
    out: String,
    max: usize,
    gap: Gap,
    full: bool,
}

impl TextSink {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            out: String::new(),
            max,
            gap: Gap::None,
            full: false,
        }
    }

    /// No more text fits: extractors stop parsing.
    pub(crate) fn is_full(&self) -> bool {
        self.full
    }

    /// No text has been collected yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// A word boundary (tab, table cell, page element).
    pub(crate) fn space(&mut self) {
        if self.gap == Gap::None {
            self.gap = Gap::Space;
        }
    }

    /// A line or paragraph boundary.
    pub(crate) fn newline(&mut self) {
        self.gap = Gap::Newline;
    }

    pub(crate) fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            if self.full {
                return;
            }
            self.push_char(c);
        }
    }

    pub(crate) fn push_char(&mut self, c: char) {
        if self.full {
            return;
        }
        match c {
            '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                self.newline();
                return;
            }
            // Invisible characters that would otherwise glue to or split words.
            '\u{feff}' | '\u{200b}' | '\u{00ad}' => return,
            c if c.is_whitespace() || c.is_control() => {
                self.space();
                return;
            }
            _ => {}
        }
        let gap = match (self.out.is_empty(), self.gap) {
            (true, _) | (false, Gap::None) => "",
            (false, Gap::Space) => " ",
            (false, Gap::Newline) => "\n",
        };
        if self.out.len() + gap.len() + c.len_utf8() > self.max {
            self.full = true;
            return;
        }
        self.out.push_str(gap);
        self.out.push(c);
        self.gap = Gap::None;
    }

    /// The text and whether it was cut.
    pub(crate) fn finish(self) -> (String, bool) {
        (self.out, self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(max: usize, input: &str) -> (String, bool) {
        let mut sink = TextSink::new(max);
        sink.push_str(input);
        sink.finish()
    }

    #[test]
    fn collapses_whitespace_and_keeps_line_breaks() {
        assert_eq!(
            collect(100, "  a \t b\u{a0}c \n\n  d\u{0}e  "),
            ("a b c\nd e".to_owned(), false)
        );
    }

    #[test]
    fn truncates_at_a_char_boundary() {
        // "ä" is two bytes: 5 bytes fit "aää" minus the last half.
        assert_eq!(collect(4, "aää"), ("aä".to_owned(), true));
        assert_eq!(collect(5, "aää"), ("aää".to_owned(), false));
        assert_eq!(collect(0, "x"), (String::new(), true));
        assert_eq!(collect(0, "   "), (String::new(), false));
    }
}
