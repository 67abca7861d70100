#!/bin/sh
# Copies the browser libraries from npm into the web crate's static folder, where rust-embed
# puts them into the binary. The copies are committed: a fresh clone builds and runs without npm.
# Run after changing a version in package.json:   cd frontend && npm install && sh vendor.sh
set -eu
cd "$(dirname "$0")"
[ -d node_modules/echarts ] || npm ci
dest=../crates/smedx-web/static/vendor
mkdir -p "$dest"
cp node_modules/echarts/dist/echarts.min.js "$dest/echarts.min.js"
cp node_modules/echarts/LICENSE "$dest/echarts.LICENSE.txt"
version=$(node -p "require('./node_modules/echarts/package.json').version")
echo "echarts $version" > "$dest/VERSIONS.txt"
echo "vendored echarts $version into $dest"
