//! Text helpers for error messages: user input is clipped before it is quoted, so an
//! error never carries a megabyte of someone's input.

/// Clips user input for an error message: at most 80 characters, with `…` when cut.
pub fn clip(input: &str) -> String {
    const MAX: usize = 80;
    if input.chars().count() <= MAX {
        input.to_owned()
    } else {
        let mut out: String = input.chars().take(MAX).collect();
        out.push('…');
        out
    }
}
