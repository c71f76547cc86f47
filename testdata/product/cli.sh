#!/bin/sh
# manager-cli @VERSION@: the demo product's command-line client.
echo "manager-cli @VERSION@"
