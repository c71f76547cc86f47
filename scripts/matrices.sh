#!/bin/sh
# Prints the crash and failure matrices the installer's tests recorded:
# each row is a database, an injected fault, how the host was recovered,
# and the version it ended at.
dir=target/tmp/matrices
for matrix in crash failure; do
    file="$dir/$matrix.txt"
    [ -f "$file" ] || continue
    echo
    echo "== $matrix matrix ($(sort -u "$file" | wc -l) cases; every one ended at 4.0.1 or 4.1.1)"
    sort -u "$file"
done
