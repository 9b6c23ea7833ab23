#!/bin/sh
# Build the Rust oracle in the working directory (the adapter's folder, e.g. adapters/s3s, as the
# harness runs each manifest's build) and copy its binary into <build_dir>/:
#   sh ../oracle-common/build.sh <build_dir>
# Cargo's own cache is one folder for the three oracles, ../oracle-common/.build/target: shared by every
# build key (a source change recompiles only this crate) and by the oracles (a dependency compiled for
# one with the same version and features is not compiled again: rustack's cold build takes 12 s after
# s3s's instead of about 40 s). The committed Cargo.lock is used as is (--locked).
set -eu
build_dir=${1:?usage: build.sh <build_dir>}
mkdir -p "$build_dir" .build
name=$(sed -n 's/^name = "\(sigharness-oracle-[a-z0-9-]*\)"/\1/p' Cargo.toml | head -1)
target=../oracle-common/.build/target
cargo build --release --locked --target-dir "$target"
cp "$target/release/$name" "$build_dir/$name"
