#!/bin/sh
# Prints what the installer's tests recorded: the crash and failure
# matrices (each row a database, an injected fault, how the host was
# recovered, and the version it ended at), the crafted packages refused,
# the corruption campaign's count, and the rehearsals' predictions against the applies.
dir=target/tmp/matrices
for matrix in crash failure crafted campaign rehearsal; do
    file="$dir/$matrix.txt"
    [ -f "$file" ] || continue
    echo
    echo "== $matrix ($(sort -u "$file" | wc -l) rows)"
    sort -u "$file"
done
