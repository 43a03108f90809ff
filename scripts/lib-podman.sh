# shellcheck shell=bash disable=SC2154  # work, cache_dir, base_tag, log and fail come from the caller
# Podman on this machine, shared by scripts/compose-check.sh and
# scripts/package-check.sh (sourced, bash). Storage and state live in the
# caller's temporary folder, never in /var/lib/containers, so that a run
# removes everything it made.
#
# The caller defines log MESSAGE and fail MESSAGE (which exits), and sets:
#   work       the run's temporary folder (mktemp -d)
#   cache_dir  where the debootstrap tarball is cached
#   base_tag   the name the base image is imported as
#
# Functions:
#   podman_config               storage.conf and containers.conf in $work, exported
#   base_image                  the debootstrap bookworm minbase image, cached per day
#   record_machine_state        what podman networks change (iptables, /run dirs,
#   restore_iptables, restore_run_dirs   aardvark-dns), before and after
#   end_workdir_processes       ends processes naming $work (conmon of our storage)
#   end_leftover_processes      the same, and a new aardvark-dns
#   unmount_leftovers           unmounts what is still mounted under $work
#   ms_to_s MS                  milliseconds as seconds with one decimal

podman_config() {
    mkdir -p "$work/networks" "$work/tmp"
    # Storage and runtime state in the temporary folder, not /var/lib/containers.
    cat >"$work/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$work/storage"
runroot = "$work/run"
EOF
    # Lowered default ulimits: root here lacks CAP_SYS_RESOURCE to raise them.
    # runc: crun refuses this machine's hybrid cgroup layout. No systemd here, so
    # cgroupfs and file logs; network definitions kept in the temporary folder.
    cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[network]
network_backend = "netavark"
network_config_dir = "$work/networks"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
tmp_dir = "$work/tmp"
EOF
    export CONTAINERS_STORAGE_CONF="$work/storage.conf" CONTAINERS_CONF="$work/containers.conf"
}

ms_to_s() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

iptables_chains() {
    local cmd table
    for cmd in iptables ip6tables; do
        command -v "$cmd" >/dev/null 2>&1 || continue
        for table in filter nat mangle; do
            "$cmd" -t "$table" -S 2>/dev/null | awk -v c="$cmd" -v t="$table" '$1 == "-N" { print c, t, $2 }'
        done
    done
}

record_machine_state() {
    iptables_chains >"$work/chains.before"
    ip_forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
    pgrep -x aardvark-dns >"$work/aardvark.before" || true
    var_containers_existed=$(exists /var/lib/containers)
    run_networks_existed=$(exists /run/containers/networks)
    run_containers_existed=$(exists /run/containers)
    run_netns_existed=$(exists /run/netns)
    run_netns_mounted=0
    if mountpoint -q /run/netns 2>/dev/null; then run_netns_mounted=1; fi
}

exists() { if [ -e "$1" ]; then echo 1; else echo 0; fi; }

# Podman makes /run/netns a shared bind mount and keeps state under
# /run/containers/networks and /var/lib/containers/cache whatever its storage
# is: undo what this run made.
restore_run_dirs() {
    if [ "$run_netns_mounted" = 0 ] && mountpoint -q /run/netns 2>/dev/null; then
        umount /run/netns 2>/dev/null || umount -l /run/netns
    fi
    if [ "$run_netns_existed" = 0 ]; then rmdir /run/netns 2>/dev/null; fi
    if [ "$run_networks_existed" = 0 ]; then rm -rf /run/containers/networks; fi
    if [ "$run_containers_existed" = 0 ]; then rmdir /run/containers 2>/dev/null; fi
    # podman's blob cache (/var/lib/containers/cache) lies outside its storage.
    if [ "$var_containers_existed" = 0 ]; then rm -rf /var/lib/containers; fi
}

# Removes the iptables chains that appeared during the run (podman's netavark
# adds NETAVARK_* and NETAVARK-* chains and jumps to them from built-in chains).
restore_iptables() {
    local cmd table chain
    [ -f "$work/chains.before" ] || return 0
    iptables_chains | sort >"$work/chains.after"
    sort "$work/chains.before" | comm -13 - "$work/chains.after" >"$work/chains.new"
    while read -r cmd table chain; do
        delete_jumps_to "$cmd" "$table" "$chain"
        "$cmd" -t "$table" -F "$chain" 2>/dev/null || true
    done <"$work/chains.new"
    while read -r cmd table chain; do
        "$cmd" -t "$table" -X "$chain" 2>/dev/null ||
            log "warning: could not delete $cmd chain $chain in table $table"
    done <"$work/chains.new"
    if [ -s "$work/chains.new" ]; then
        log "removed $(wc -l <"$work/chains.new") iptables chains podman added"
    fi
    if [ -n "$ip_forward_before" ]; then
        echo "$ip_forward_before" >/proc/sys/net/ipv4/ip_forward 2>/dev/null || true
    fi
}

# delete_jumps_to CMD TABLE CHAIN: deletes every rule that jumps to CHAIN, by
# number (last first), so that quoted comments in rules need no parsing.
delete_jumps_to() {
    local parent num
    for parent in $("$1" -t "$2" -S 2>/dev/null | awk -v c="$3" '$1 == "-A" && / -j / { for (i = 3; i < NF; i++) if ($i == "-j" && $(i + 1) == c) print $2 }' | sort -u); do
        for num in $("$1" -t "$2" -L "$parent" -n --line-numbers 2>/dev/null | awk -v c="$3" '$2 == c { print $1 }' | sort -rn); do
            "$1" -t "$2" -D "$parent" "$num" 2>/dev/null || true
        done
    done
}

# Ends the processes of this run's storage (conmon and the like): those whose
# command line names the run's own temporary folder.
end_workdir_processes() {
    local pid
    for pid in $(pgrep -f -- "$work/" || true); do
        [ "$pid" = "$$" ] && continue
        kill -TERM "$pid" 2>/dev/null && log "ended leftover process $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-100)"
    done
}

# Ends the processes this run left: conmon of our storage, a new aardvark-dns
# (for runs that use podman networks and called record_machine_state).
end_leftover_processes() {
    local pid
    end_workdir_processes
    for pid in $(pgrep -x aardvark-dns || true); do
        grep -qx "$pid" "$work/aardvark.before" || kill -TERM "$pid" 2>/dev/null || true
    done
}

unmount_leftovers() {
    local mnt
    awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mnt; do
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || log "warning: cannot unmount $mnt"
    done
}

# The Debian mirror apt uses here (one-line or deb822 sources), or NW_DEBIAN_MIRROR.
debian_mirror() {
    if [ -n "${NW_DEBIAN_MIRROR:-}" ]; then
        echo "$NW_DEBIAN_MIRROR"
        return
    fi
    {
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; break } }'
        cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }'
    } | grep -E '/debian/?$' | head -n 1 | sed 's:/$::'
}

security_mirror() {
    {
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; break } }'
        cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }'
    } | grep -E '/debian-security/?$' | head -n 1 | sed 's:/$::'
}

# debootstrap_tarball OUT MIRROR: a minbase bookworm root file system, as a tar.
debootstrap_tarball() {
    local out=$1 mirror=$2 rootfs="$work/rootfs" security
    security=$(security_mirror)
    log "debootstrap --variant=minbase bookworm from $mirror (about 30 s)"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap from $mirror (log above)"; }
    rm -f "$rootfs/etc/apt/sources.list" "$rootfs"/var/cache/apt/archives/*.deb
    rm -rf "$rootfs"/var/lib/apt/lists/*
    {
        printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$mirror"
        printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        if [ -n "$security" ]; then
            printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$security"
            printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        fi
    } >"$rootfs/etc/apt/sources.list.d/debian.sources"
    # As in the official slim image: no manuals, docs or translations.
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
        'path-exclude /usr/share/locale/*' >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
    tar --numeric-owner -C "$rootfs" -cf "$out.part" . || fail "cannot write $out.part"
    mv "$out.part" "$out"
    rm -rf "$rootfs"
}

# The base image from a cached tarball (one per day), built when missing.
base_image() {
    local mirror tarball old
    mirror=$(debian_mirror)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    mkdir -p "$cache_dir" || fail "cannot create the cache folder $cache_dir"
    tarball="$cache_dir/debian-bookworm-minbase-$(date +%Y%m%d).tar"
    if [ -s "$tarball" ]; then
        log "base tarball from the cache: $tarball"
    else
        debootstrap_tarball "$tarball" "$mirror"
        for old in "$cache_dir"/debian-bookworm-minbase-*.tar; do
            [ "$old" = "$tarball" ] || rm -f "$old"
        done
    fi
    podman import --change 'CMD ["bash"]' "$tarball" "$base_tag" >/dev/null ||
        fail "podman import of $tarball"
    log "imported $tarball as $base_tag"
}
