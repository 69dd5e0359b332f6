#!/bin/sh
# meson install script: puts the example configuration at SYSCONFDIR/mcfwd/mcfwd.yaml
# only if no file is there, so a reinstall keeps the operator's configuration.
#   install_config.sh EXAMPLE ABSOLUTE_SYSCONFDIR
set -eu
# DESTDIR as meson applies it: the destination prefix minus the prefix.
destdir=${MESON_INSTALL_DESTDIR_PREFIX%"$MESON_INSTALL_PREFIX"}
dir=$destdir$2/mcfwd
if [ -e "$dir/mcfwd.yaml" ]; then
  echo "Keeping $dir/mcfwd.yaml (the example is $1)"
else
  mkdir -p "$dir"
  cp "$1" "$dir/mcfwd.yaml"
  chmod 644 "$dir/mcfwd.yaml"
  echo "Installing $dir/mcfwd.yaml"
fi
