//! Finds where a value sits in the manifest text, for errors that serde_yaml cannot place.
//!
//! serde_yaml reports a location only for syntax and type errors. For the semantic checks
//! (an invalid email in `users[3]`) this module maps a path such as `users[3].email` to the
//! line of that key with a light scan of block-style YAML. When the scan cannot be sure (flow
//! style, anchors, or a count that does not match the parsed manifest) it answers `None`
//! and the problem is reported by its path alone, never at a wrong line.

use miette::SourceSpan;

/// One segment of a path into the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

#[derive(Debug, Clone, Copy)]
struct Line {
    /// Byte offset of the line's first character.
    start: usize,
    /// Byte offset of the first character after indentation and any `- ` item marker.
    content: usize,
    /// Byte offset of the end of the line (without the line break).
    end: usize,
    /// Columns of leading spaces.
    raw_indent: usize,
    /// Column where the content starts, counting `- ` as indentation.
    key_indent: usize,
    /// Whether the line starts a sequence item (`- `).
    is_item: bool,
    /// Blank or comment-only.
    is_blank: bool,
}

/// Where the users are in the text: see [`SourceMap::users_layout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersLayout {
    pub block: std::ops::Range<usize>,
    pub items: Vec<std::ops::Range<usize>>,
}

/// A located view of one manifest text.
pub struct SourceMap<'a> {
    text: &'a str,
    lines: Vec<Line>,
    /// The line indices where each `users[i]` item starts, when the scan is sure of them,
    /// and the line after the last item.
    user_items: Option<(Vec<usize>, usize)>,
}

impl<'a> SourceMap<'a> {
    /// Scans `text`. `user_count` is how many users serde_yaml found: the scan's own count
    /// must agree before any user is located.
    pub fn new(text: &'a str, user_count: usize) -> Self {
        let mut lines = Vec::new();
        let mut start = 0;
        for raw in text.split_inclusive('\n') {
            let body = raw.trim_end_matches(['\n', '\r']);
            let raw_indent = body.len() - body.trim_start_matches(' ').len();
            let rest = &body[raw_indent..];
            let is_item = rest == "-" || rest.starts_with("- ");
            let marker = if is_item { (rest.len() - rest[1..].trim_start_matches(' ').len()).max(1) } else { 0 };
            let trimmed = rest.trim();
            lines.push(Line {
                start,
                content: start + raw_indent + marker,
                end: start + body.len(),
                raw_indent,
                key_indent: raw_indent + marker,
                is_item,
                is_blank: trimmed.is_empty() || trimmed.starts_with('#') || trimmed == "---",
            });
            start += raw.len();
        }
        let mut map = SourceMap { text, lines, user_items: None };
        map.user_items = map.scan_user_items(user_count);
        map
    }

    /// The byte range of the whole top-level `users:` entry (key line to the end of its
    /// block) and of each item in it, when `users` is a block sequence.
    pub fn users_layout(&self) -> Option<UsersLayout> {
        let key_line = self.find_key(0..self.lines.len(), "users")?;
        let line = &self.lines[key_line];
        let after_colon = self.text[line.content..line.end].split_once(':')?.1.trim();
        if line.raw_indent != 0 || !(after_colon.is_empty() || after_colon.starts_with('#')) {
            return None;
        }
        let children = self.children(key_line);
        let end_of = |i: usize| self.lines.get(i).map_or(self.text.len(), |l| l.start);
        let block = line.start..end_of(children.end);
        let first = children.clone().find(|&i| !self.lines[i].is_blank);
        let Some(first) = first else { return Some(UsersLayout { block, items: Vec::new() }) };
        let seq_indent = self.lines[first].raw_indent;
        let starts: Vec<usize> =
            children.clone().filter(|&i| self.lines[i].is_item && self.lines[i].raw_indent == seq_indent).collect();
        if starts.first() != Some(&first) {
            return None;
        }
        let items = starts
            .iter()
            .enumerate()
            .map(|(n, &i)| self.lines[i].start..end_of(starts.get(n + 1).copied().unwrap_or(children.end)))
            .collect();
        Some(UsersLayout { block, items })
    }

    fn scan_user_items(&self, user_count: usize) -> Option<(Vec<usize>, usize)> {
        let all = 0..self.lines.len();
        let key_line = self.find_key(all, "users")?;
        let children = self.children(key_line);
        let end = children.end;
        let first = children.clone().find(|&i| !self.lines[i].is_blank)?;
        let seq_indent = self.lines[first].raw_indent;
        let items: Vec<usize> =
            children.filter(|&i| self.lines[i].is_item && self.lines[i].raw_indent == seq_indent).collect();
        (items.len() == user_count).then_some((items, end))
    }

    /// The span of the value at `path`, or of the nearest enclosing entry that can be found.
    pub fn locate(&self, path: &[Segment<'_>]) -> Option<SourceSpan> {
        self.find(path).0.map(|line| self.span_of(line))
    }

    /// The bytes of the entry at exactly `path` in block style: its key line and the lines
    /// of its value. `None` when the scan cannot find it, or when its key line also starts
    /// a list item (the item would go with it).
    pub fn entry_range(&self, path: &[Segment<'_>]) -> Option<std::ops::Range<usize>> {
        let (Some(line), true) = self.find(path) else { return None };
        if self.lines[line].is_item {
            return None;
        }
        let end = self.children(line).end;
        Some(self.lines[line].start..self.lines.get(end).map_or(self.text.len(), |l| l.start))
    }

    /// The line of the entry at `path`, or of the nearest enclosing one, and whether the
    /// whole path was found.
    fn find(&self, path: &[Segment<'_>]) -> (Option<usize>, bool) {
        let mut range = 0..self.lines.len();
        let mut found: Option<usize> = None;
        let mut segments = path.iter().peekable();
        while let Some(segment) = segments.next() {
            match *segment {
                Segment::Key("users") if matches!(segments.peek(), Some(Segment::Index(_))) => {
                    let Some(Segment::Index(i)) = segments.next() else { unreachable!() };
                    let Some((items, users_end)) = self.user_items.as_ref() else { return (None, false) };
                    let Some(&first) = items.get(*i) else { return (None, false) };
                    let end = items.get(i + 1).copied().unwrap_or(*users_end);
                    found = Some(first);
                    range = first..end;
                }
                Segment::Key(key) => match self.find_key(range.clone(), key) {
                    Some(line) => {
                        found = Some(line);
                        range = self.children(line);
                    }
                    None => return (found, false),
                },
                Segment::Index(_) => return (found, false),
            }
        }
        (found, true)
    }

    fn span_of(&self, line: usize) -> SourceSpan {
        let line = &self.lines[line];
        let text = &self.text[line.content..line.end];
        let len = text.trim_end().len().max(1);
        SourceSpan::new(line.content.into(), len.min(self.text.len() - line.content))
    }

    /// The first line in `range` that holds `key:` at the range's mapping indentation.
    fn find_key(&self, range: std::ops::Range<usize>, key: &str) -> Option<usize> {
        let mut indent = None;
        for i in range {
            let line = &self.lines[i];
            if line.is_blank {
                continue;
            }
            let indent = *indent.get_or_insert(line.key_indent);
            if line.key_indent != indent {
                continue;
            }
            let content = &self.text[line.content..line.end];
            let unquoted = ['\'', '"'].iter().find_map(|q| {
                content.strip_prefix(*q).and_then(|c| c.strip_prefix(key)).and_then(|c| c.strip_prefix(*q))
            });
            let Some(rest) = unquoted.or_else(|| content.strip_prefix(key)) else { continue };
            let rest = rest.trim_start_matches(' ');
            if rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with([' ', '\t'])) {
                return Some(i);
            }
        }
        None
    }

    /// The lines that belong to the value of the key on line `line`.
    fn children(&self, line: usize) -> std::ops::Range<usize> {
        let indent = self.lines[line].key_indent;
        let mut end = line + 1;
        while end < self.lines.len() {
            let next = &self.lines[end];
            if !next.is_blank && next.raw_indent <= indent && !(next.is_item && next.raw_indent == indent) {
                break;
            }
            end += 1;
        }
        line + 1..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
version: 1
pool:
  id: us-east-1_abc
users:
  - username: alice
    email: a@example.com
    custom:
      department: eng
  # a comment
  - username: bob
    email: bob@
rules:
  username_pattern: '['
";

    fn line_col(text: &str, span: SourceSpan) -> (usize, usize, &str) {
        let before = &text[..span.offset()];
        let line = before.matches('\n').count() + 1;
        let col = span.offset() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, col, &text[span.offset()..span.offset() + span.len()])
    }

    #[test]
    fn locates_keys_of_users_and_nested_maps() {
        let map = SourceMap::new(TEXT, 2);
        let at = |path: &[Segment<'_>]| line_col(TEXT, map.locate(path).unwrap());
        assert_eq!(at(&[Segment::Key("users"), Segment::Index(1), Segment::Key("email")]), (11, 5, "email: bob@"));
        assert_eq!(at(&[Segment::Key("users"), Segment::Index(1)]), (10, 5, "username: bob"));
        assert_eq!(
            at(&[Segment::Key("users"), Segment::Index(0), Segment::Key("custom"), Segment::Key("department")]),
            (8, 7, "department: eng")
        );
        assert_eq!(at(&[Segment::Key("rules"), Segment::Key("username_pattern")]), (13, 3, "username_pattern: '['"));
        // A key the user does not have: the user's own line.
        assert_eq!(
            at(&[Segment::Key("users"), Segment::Index(0), Segment::Key("phone_number")]),
            (5, 5, "username: alice")
        );
    }

    #[test]
    fn lays_out_the_users_block() {
        let map = SourceMap::new(TEXT, 2);
        let layout = map.users_layout().unwrap();
        assert!(TEXT[layout.block.clone()].starts_with("users:\n"));
        assert!(TEXT[layout.block.end..].starts_with("rules:"));
        assert_eq!(layout.items.len(), 2);
        assert_eq!(&TEXT[layout.items[1].clone()], "  - username: bob\n    email: bob@\n");
        assert!(SourceMap::new("users: []\n", 0).users_layout().is_none());
    }

    #[test]
    fn refuses_to_guess_when_counts_differ() {
        let map = SourceMap::new(TEXT, 3);
        assert!(map.locate(&[Segment::Key("users"), Segment::Index(0)]).is_none());
    }

    #[test]
    fn handles_items_at_the_key_indentation() {
        let text = "users:\n- username: a\n  email: x\n- username: b\n  phone_number: y\nversion: 1\n";
        let map = SourceMap::new(text, 2);
        let span = map.locate(&[Segment::Key("users"), Segment::Index(1), Segment::Key("phone_number")]).unwrap();
        assert_eq!(line_col(text, span), (5, 3, "phone_number: y"));
        let span = map.locate(&[Segment::Key("version")]).unwrap();
        assert_eq!(line_col(text, span).0, 6);
    }
}
