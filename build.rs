// rstest's #[files("claims/*.yaml")] expands at compile time: without this,
// a new claim file would silently not be tested until something else changed.
fn main() {
    println!("cargo::rerun-if-changed=claims");
}
