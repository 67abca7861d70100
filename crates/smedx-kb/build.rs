// Rebuild when any knowledge-base file changes: the data folder is embedded in the binary.
fn main() {
    println!("cargo:rerun-if-changed=../../data");
}
