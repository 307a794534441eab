//! What the commands print, and what a failed print does (README, "The two
//! commands"). A reader that leaves (`| head`, a closed pipe on stdout or
//! stderr) loses the rest of the text and nothing else: the work goes on,
//! its files are written and the exit status is the work's. Any other
//! failed write (`> /dev/full`) ends the process with a one-line error and
//! the error status, after whatever was written before it (results files
//! come first).
//!
//! Every line the commands print goes through [`out!`](crate::out) (stdout)
//! or [`say!`](crate::say) (stderr).

use std::fmt::Arguments;
use std::io::{self, Write};

/// Print a line to stdout, as `println!`, but a closed pipe drops it.
#[macro_export]
macro_rules! out {
    () => { $crate::console::print_line(&mut ::std::io::stdout().lock(), "stdout", format_args!("")) };
    ($($arg:tt)*) => { $crate::console::print_line(&mut ::std::io::stdout().lock(), "stdout", format_args!($($arg)*)) };
}

/// Print a line to stderr, as `eprintln!`, but a closed pipe drops it.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::console::print_line(&mut ::std::io::stderr().lock(), "stderr", format_args!($($arg)*)) };
}

/// Write `args` and a newline to `stream` (named `name` in errors). A
/// closed pipe drops the line; any other failure panics with the message
/// [`end_cleanly_on_output_errors`] turns into an exit.
pub fn print_line(stream: &mut impl Write, name: &str, args: Arguments) {
    match stream.write_fmt(args).and_then(|()| stream.write_all(b"\n")) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => panic!("{OUTPUT_FAILED} {name}: {e}"),
    }
}

/// Print text that ends its own lines (a table) to stdout, as
/// [`print_line`] does.
pub fn print_text(text: &str) {
    let text = text.strip_suffix('\n').unwrap_or(text);
    print_line(&mut io::stdout().lock(), "stdout", format_args!("{text}"));
}

/// How a failed print's panic begins (std's own `println!` says the same).
const OUTPUT_FAILED: &str = "failed printing to";

/// Make a failed write to stdout or stderr (`> /dev/full`, a full disk)
/// end the process with a one-line error and `status` instead of a panic
/// and its backtrace (exit 101). Whatever was written before (results
/// files come first) stays. Other panics keep the default hook.
pub fn end_cleanly_on_output_errors(status: i32) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message =
            payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
        if let Some(message) = message.filter(|m| m.starts_with(OUTPUT_FAILED)) {
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
    fn a_closed_pipe_drops_the_line_and_other_failures_panic() {
        print_line(&mut Failing(io::ErrorKind::BrokenPipe), "stderr", format_args!("lost"));
        let full = std::panic::catch_unwind(|| {
            print_line(&mut Failing(io::ErrorKind::StorageFull), "stdout", format_args!("x"));
        });
        let message = *full.unwrap_err().downcast::<String>().unwrap();
        assert!(message.starts_with("failed printing to stdout:"), "{message}");
        let mut written = Vec::new();
        print_line(&mut written, "stdout", format_args!("a {}", 1));
        assert_eq!(written, b"a 1\n");
    }
}
