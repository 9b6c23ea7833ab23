//! Compiles the resolved verifier version (from the Cargo.lock this build used) and the rustc version
//! into the binary, for its hello (adapters/oracle-common).
fn main() {
    sigharness_oracle_common::build_script::versions("rustack-auth");
}
