//! Progress on stderr: a bar on a terminal, plain periodic lines otherwise, nothing when
//! hidden (`--quiet`, `--verbose`, `COGNITO_SYNC_NO_PROGRESS`).
#![allow(clippy::print_stderr)]

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::settings::Settings;

/// One progress display for one long phase.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// `total` and what is counted, for plain lines: `(2/10 pages)`.
    counted: Option<(u64, &'static str)>,
    /// The columns the bar's other parts take (spinner, counts, time), to fit the message.
    fixed_width: usize,
    plain: bool,
    last_line: Option<(Instant, String)>,
}

/// Below this terminal width a bar leaves too little room for the message: counts only.
const BAR_MIN_COLUMNS: u16 = 100;

/// Plain lines are printed when the message changes, but at most this often.
const PLAIN_INTERVAL: Duration = Duration::from_secs(5);

impl Progress {
    /// A progress display for a phase of `total` steps (`None`: unknown, a spinner).
    pub fn new(settings: &Settings, total: Option<u64>, message: &str) -> Self {
        Self::counting(settings, total.map(|t| (t, "")), message)
    }

    /// A progress display for a phase of `total` `unit`s (e.g. pages), shown after the bar.
    pub fn counting(settings: &Settings, counted: Option<(u64, &'static str)>, message: &str) -> Self {
        let total = counted.map(|(t, _)| t);
        let unit = counted.map_or("", |(_, u)| u);
        if !settings.progress {
            return Progress { bar: None, counted, fixed_width: 0, plain: false, last_line: None };
        }
        if !settings.stderr_is_terminal {
            let line = plain_line(message, 0, counted);
            eprintln!("{line}");
            return Progress {
                bar: None,
                counted,
                fixed_width: 0,
                plain: true,
                last_line: Some((Instant::now(), line)),
            };
        }
        let target = ProgressDrawTarget::stderr();
        let columns = terminal_columns();
        // `{msg}`, not `{wide_msg}`: the message is fitted here, at a word or inside a long
        // name, never cut mid-word by the terminal, and never padded to the full width.
        let unit_text = if unit.is_empty() { String::new() } else { format!(" {unit}") };
        let (template, fixed_width) = match total {
            Some(total) => {
                let counts = 2 * total.to_string().len() + 1 + unit_text.len();
                if columns >= BAR_MIN_COLUMNS {
                    (
                        format!("{{spinner}} {{msg}} [{{bar:30}}] {{pos}}/{{len}}{unit_text} {{elapsed}}"),
                        2 + 33 + counts + 8,
                    )
                } else {
                    (format!("{{spinner}} {{msg}} {{pos}}/{{len}}{unit_text} {{elapsed}}"), 2 + 1 + counts + 8)
                }
            }
            None => ("{spinner} {msg} {elapsed}".to_owned(), 2 + 8),
        };
        let mut style = ProgressStyle::with_template(&template).expect("valid template");
        if total.is_some() {
            style = style.progress_chars("=> ");
        }
        let bar = ProgressBar::with_draw_target(total, target).with_style(style);
        let progress = Progress { bar: Some(bar), counted, fixed_width, plain: false, last_line: None };
        if let Some(bar) = &progress.bar {
            bar.set_message(progress.fitted(message));
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        progress
    }

    /// `message` fitted to the terminal's width as it is now (it may have been resized).
    fn fitted(&self, message: &str) -> String {
        let columns = usize::from(terminal_columns());
        fit(message, columns.saturating_sub(self.fixed_width + 1).max(20))
    }

    /// Updates position and message; plain output prints a line when the message changed
    /// and the last line is old enough.
    pub fn update(&mut self, position: u64, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            bar.set_message(self.fitted(message));
        } else if self.plain {
            let line = plain_line(message, position, self.counted);
            let due = match &self.last_line {
                Some((at, last)) => *last != line && at.elapsed() >= PLAIN_INTERVAL,
                None => true,
            };
            if due {
                eprintln!("{line}");
                self.last_line = Some((Instant::now(), line));
            }
        }
    }

    /// Removes the bar; results are printed after this.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A progress line when stderr is not a terminal: the message, then `(2/10 pages)`.
fn plain_line(message: &str, position: u64, counted: Option<(u64, &str)>) -> String {
    match counted {
        Some((total, unit)) if !unit.is_empty() => format!("{message} ({position}/{total} {unit})"),
        _ => message.to_owned(),
    }
}

/// The width of the terminal on stderr (80 when it cannot be told).
fn terminal_columns() -> u16 {
    console::Term::stderr().size_checked().map_or(80, |(_, columns)| columns)
}

/// `message` in at most `max` characters: first the longest names in backticks (pool and
/// job ids) lose their middle, then the text is cut after a whole word, with `…`.
pub fn fit(message: &str, max: usize) -> String {
    let length = |s: &str| s.chars().count();
    let mut text = message.to_owned();
    while length(&text) > max {
        let excess = length(&text) - max;
        // The longest backticked name still longer than 12 characters.
        let parts: Vec<&str> = text.split('`').collect();
        let Some((index, name)) = parts
            .iter()
            .enumerate()
            .filter(|(i, part)| i % 2 == 1 && i + 1 < parts.len() && length(part) > 12)
            .max_by_key(|(_, part)| length(part))
        else {
            break;
        };
        let keep = length(name).saturating_sub(excess + 1).max(11);
        let short: String = name.chars().take(keep).chain(std::iter::once('…')).collect();
        let mut rebuilt: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
        rebuilt[index] = short;
        text = rebuilt.join("`");
    }
    if length(&text) <= max {
        return text;
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match head.rfind(' ') {
        Some(space) if space > head.len() / 2 => head[..space].trim_end_matches([',', ':', ';']).to_owned(),
        _ => head,
    };
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn long_names_lose_their_middle_before_words_are_cut() {
        let message = "reading pool `us-east-1_a9479759b7c742379e80d5eac89121d0`: listing users, 3/17 requests";
        assert_eq!(fit(message, 200), message);
        assert_eq!(fit(message, 60), "reading pool `us-east-1_a947…`: listing users, 3/17 requests");
        assert_eq!(fit(message, 50), "reading pool `us-east-1_a…`: listing users, 3/17…");
        assert_eq!(fit("import job running, 1200 imported, 3 skipped, 0 failed", 30), "import job running, 1200…");
        assert!(fit("x".repeat(50).as_str(), 20).ends_with('…'));
    }

    #[test]
    fn plain_lines_carry_the_counts() {
        assert_eq!(super::plain_line("exporting", 2, Some((10, "pages"))), "exporting (2/10 pages)");
        assert_eq!(super::plain_line("reading", 2, None), "reading");
    }
}
