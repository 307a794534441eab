//! What the commands print, and what a failed print does (README, "The two
//! commands"). Output never stops the work: a reader that leaves (`| head`,
//! a closed pipe on stdout or stderr) loses the rest of the text and
//! nothing else, the work's files are written and the exit status is the
//! work's. Any other failed write (`> /dev/full`, `2> /dev/full`) loses the
//! text too; the work still runs to its end, writes its files, and then
//! [`finish`] ends the task with one error line and the error status.
//!
//! Every line the commands print goes through [`out!`](crate::out) (stdout)
//! or [`say!`](crate::say) (stderr).

use std::fmt::Arguments;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::OnceLock;

/// Print a line to stdout, as `println!`, but a failed write drops it.
#[macro_export]
macro_rules! out {
    () => { $crate::console::print_line(&mut ::std::io::stdout().lock(), "stdout", format_args!("")) };
    ($($arg:tt)*) => { $crate::console::print_line(&mut ::std::io::stdout().lock(), "stdout", format_args!($($arg)*)) };
}

/// Print a line to stderr, as `eprintln!`, but a failed write drops it.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::console::print_line(&mut ::std::io::stderr().lock(), "stderr", format_args!($($arg)*)) };
}

/// The first failed write other than to a closed pipe ("failed printing to
/// stdout: No space left on device"), for [`finish`].
static FAILURE: OnceLock<String> = OnceLock::new();

/// Write `args` and a newline to `stream` (named `name` in errors). A
/// failed write drops the line; one other than to a closed pipe is kept
/// for [`finish`].
pub fn print_line(stream: &mut impl Write, name: &str, args: Arguments) {
    if let Err(e) = stream.write_fmt(args).and_then(|()| stream.write_all(b"\n")) {
        remember(name, &e);
    }
}

/// Keep the first failed write that is not a reader gone away.
fn remember(name: &str, e: &io::Error) {
    if e.kind() != io::ErrorKind::BrokenPipe {
        let _ = FAILURE.set(format!("failed printing to {name}: {e}"));
    }
}

/// Print text that ends its own lines (a table) to stdout, as
/// [`print_line`] does.
pub fn print_text(text: &str) {
    let text = text.strip_suffix('\n').unwrap_or(text);
    print_line(&mut io::stdout().lock(), "stdout", format_args!("{text}"));
}

/// The exit status of a task whose work ended with `work`: `error`, with
/// the failure on stderr (if it can be written), when a write failed other
/// than to a closed pipe; `work` otherwise.
pub fn finish(work: ExitCode, error: u8) -> ExitCode {
    match FAILURE.get() {
        Some(failure) => {
            let _ = writeln!(io::stderr(), "error: {failure}");
            ExitCode::from(error)
        }
        None => work,
    }
}

/// The command line, parsed by clap; `--help`, `--version` and usage errors
/// print as clap prints them and exit with clap's status, or with `error`
/// when that print fails other than to a closed pipe.
pub fn parse<P: clap::Parser>(error: u8) -> P {
    P::try_parse().unwrap_or_else(|e| {
        let status = match e.print() {
            Err(failed) if failed.kind() != io::ErrorKind::BrokenPipe => {
                let _ = writeln!(io::stderr(), "error: failed printing the command line's answer: {failed}");
                i32::from(error)
            }
            _ => e.exit_code(),
        };
        std::process::exit(status)
    })
}

/// Make a failed write by code that does not print through this module
/// (std's `println!` in a dependency) end the process with a one-line
/// error and `status` instead of a panic and its backtrace (exit 101).
/// Other panics keep the default hook.
pub fn end_cleanly_on_output_errors(status: i32) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message =
            payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
        if let Some(message) = message.filter(|m| m.starts_with("failed printing to")) {
            let _ = writeln!(io::stderr(), "error: {message}");
            std::process::exit(status);
        }
        default(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails every write with `kind`.
    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_drops_the_line_and_only_other_than_a_closed_pipe_is_kept() {
        print_line(&mut Failing(io::ErrorKind::BrokenPipe), "stderr", format_args!("lost"));
        assert_eq!(FAILURE.get(), None, "a reader gone away is no failure");
        print_line(&mut Failing(io::ErrorKind::StorageFull), "stdout", format_args!("x"));
        print_line(&mut Failing(io::ErrorKind::Other), "stderr", format_args!("y"));
        let failure = FAILURE.get().expect("kept");
        assert!(failure.starts_with("failed printing to stdout:"), "the first is kept: {failure}");
        assert_eq!(finish(ExitCode::SUCCESS, 3), ExitCode::from(3));
        let mut written = Vec::new();
        print_line(&mut written, "stdout", format_args!("a {}", 1));
        assert_eq!(written, b"a 1\n");
    }
}
