#!/bin/sh
# Build the rust-aws-sigv4 adapter into <build_dir>/target/release/.
#
#   sh build.sh <build_dir>
#
# Normal builds use the committed Cargo.lock as is (--locked).
#
# For tests only: when SIGHARNESS_RUST_PATCH_AWS_SIGV4=<dir> is set (the harness passes it with
# --adapter-env, which also gives the build its own cache key), the aws-sigv4 crate is replaced
# by the crate source in <dir> through a cargo `[patch.crates-io]` given with --config. A path
# patch changes the lock file, so that build runs on a copy of this crate inside <build_dir>
# and the committed Cargo.lock is never rewritten; it starts from a copy of a normal build's target
# folder, so only the patched crate and what depends on it are compiled again.
set -eu

build_dir=${1:?usage: build.sh <build_dir>}
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)

if [ -n "${SIGHARNESS_RUST_PATCH_AWS_SIGV4:-}" ]; then
    patch_dir=$(cd "$SIGHARNESS_RUST_PATCH_AWS_SIGV4" && pwd)
    copy="$build_dir/patched-crate"
    rm -rf "$copy"
    mkdir -p "$copy"
    cp -R Cargo.toml Cargo.lock build.rs src "$copy/"
    echo "build.sh: aws-sigv4 patched from $patch_dir" >&2
    # Start from a normal build beside this one (same dependencies, compiled already): cargo then rebuilds
    # only the patched crate and what depends on it, not every dependency (minutes in a cold CI).
    if [ ! -d "$build_dir/target/release" ]; then
        for seed_target in "$build_dir"/../*/target; do
            [ -x "$seed_target/release/sigharness-rust-adapter" ] && [ ! -d "$seed_target/../patched-crate" ] || continue
            rm -rf "$build_dir/target"
            cp -a "$seed_target" "$build_dir/target"
            echo "build.sh: starting from the compiled dependencies in $seed_target" >&2
            break
        done
    fi
    # Without the token generators (Cargo.toml, feature `tokens`): only aws-sigv4 and the adapter are
    # compiled again (9 s instead of 105 s: aws-sdk-rds depends on aws-sigv4).
    exec cargo build --release --no-default-features \
        --manifest-path "$copy/Cargo.toml" \
        --target-dir "$build_dir/target" \
        --config "patch.crates-io.aws-sigv4.path=\"$patch_dir\""
fi

exec cargo build --release --locked --target-dir "$build_dir/target"
