#!/bin/sh
# Build the Rust oracle in the working directory (the adapter's folder, e.g. adapters/s3s, as the
# harness runs each manifest's build) and copy its binary into <build_dir>/:
#   sh ../oracle-common/build.sh <build_dir>
# Cargo's own cache lives in .build/target (shared by every build key, so a source change
# recompiles only this crate); the committed Cargo.lock is used as is (--locked).
set -eu
build_dir=${1:?usage: build.sh <build_dir>}
mkdir -p "$build_dir" .build
name=$(sed -n 's/^name = "\(sigharness-oracle-[a-z0-9-]*\)"/\1/p' Cargo.toml | head -1)
cargo build --release --locked --target-dir .build/target
cp ".build/target/release/$name" "$build_dir/$name"
