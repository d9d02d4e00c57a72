# shellcheck shell=bash
# Helpers for the tests against other DPDK releases than the host's: the nc_fwd fixture built
# and run inside a Debian root of that release (tests/dpdk/roots.sh), either chrooted in a
# private mount namespace or as a container (its own mount, pid, network, IPC and UTS
# namespaces, its root pivoted, the host's tree unmounted: nothing of its files is reachable by
# their paths from the host, no abstract socket of the host's network namespace from it).
# Source it after lib.sh; it keeps lib.sh's EXIT trap and adds to it.
#
#   nc_root RELEASE                  the root of RELEASE (24.11, 20.11) in NC_ROOT, built on first
#                                    use into $NC_ROOTS (ctest sets it: BUILD/dpdk-roots); exits 77
#                                    (skipped) with the reason when it cannot be built here
#   nc_root_start MODE [APP_OPTS...] -- EAL_ARGS...
#                                    start $NC_ROOT/nc/nc_fwd (or $NC_ROOT_EXE, a path inside the
#                                    root) as MODE "chroot" or "container" with lib.sh's
#                                    conventions: waits until its ports are started; sets
#                                    NC_FWD_PID (the host pid), NC_FWD_NSPID (its pid inside),
#                                    NC_FWD_PREFIX, NC_FWD_DIR, NC_FWD_OUT, NC_FWD_ERR, NC_FWD_GO.
#                                    Paths given to it must be under /tmp (bound in as /tmp).
#                                    With NC_ROOT_OVERLAY=DIR the root is an overlay of DIR (its
#                                    upper directory, made if missing) on $NC_ROOT, mounted in the
#                                    namespace only: what the test puts in DIR is in the root.
#   nc_root_exec MODE PREFIX CMD ARGS...
#                                    another program of the root in the background (its host pid
#                                    in NC_ROOT_PID, its stderr in the file NC_ROOT_EXEC_ERR);
#                                    container mode with NC_ROOT_USERNS=1: in a user namespace
#                                    of its own too (root mapped to root, as rootless engines do)
#   nc_root_wait [SECONDS]           wait for the last fixture to exit; its status (124: killed)
#   nc_root_stop                     SIGTERM it (clean exit: tx files complete), then wait
#
# nc_fwd_go works as for lib.sh's fixture. Everything started is killed at exit, also on
# failure; the mounts go with the namespaces; DPDK runtime directories in the root are removed.

_nc_root_waitpids=()
_nc_root_rundirs=()

nc_root() {
	local status=0 here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	: "${NC_ROOTS:?NC_ROOTS must name the cache directory of the DPDK roots}"
	NC_ROOT=$("$here/../dpdk/roots.sh" "$NC_ROOTS" "$1") || status=$?
	if ((status == 77)); then
		echo "SKIP: no DPDK $1 root (see above)" >&2
		exit 77
	fi
	((status == 0)) || nc_fail "tests/dpdk/roots.sh $1 failed ($status)"
	export NC_ROOT
}

# the body run in the new namespaces: binds, then chroot or pivot_root, then exec
_nc_root_script() {
	local mode=$1 exe=$2 root=$NC_ROOT
	shift 2
	echo "set -e"
	echo "mount --make-rprivate /"
	if [[ -n ${NC_ROOT_OVERLAY:-} ]]; then
		# as container engines make them: the image read-only below, the container's files above
		root=$NC_ROOT_OVERLAY.merged
		mkdir -p "$root" "$NC_ROOT_OVERLAY.work" "$NC_ROOT_OVERLAY"
		echo "mount -t overlay overlay -o 'lowerdir=$NC_ROOT,upperdir=$NC_ROOT_OVERLAY,workdir=$NC_ROOT_OVERLAY.work' '$root'"
	else
		# the root a mount point first (pivot_root wants one): a bind over it later would hide
		# the mounts made under it
		echo "mount --bind '$root' '$root'"
	fi
	cat <<-EOF
		mount --rbind /sys '$root/sys'
		mount --rbind /dev '$root/dev'
		mount --bind /tmp '$root/tmp'
	EOF
	if [[ $mode == chroot ]]; then
		cat <<-EOF
			mount --rbind /proc '$root/proc'
			exec chroot '$root' $(printf "'%s' " "$exe" "$@")
		EOF
	else
		cat <<-EOF
			mount -t proc proc '$root/proc'
			mkdir -p '$root/.oldroot'
			cd '$root'
			pivot_root . .oldroot
			/.oldroot/usr/bin/umount -l /.oldroot
			exec $(printf "'%s' " "$exe" "$@")
		EOF
	fi
}

nc_root_start() {
	local mode=$1 dir i upid exe=${NC_ROOT_EXE:-/nc/nc_fwd} children
	shift
	_nc_fwd_prepare nc_root_start "$@" || return $?
	dir=$NC_FWD_DIR
	[[ $dir == /tmp/* ]] || nc_fail "nc_root_start: the fixture's files must be under /tmp (TMPDIR=/tmp)"
	NC_FWD_GO=$dir/go
	# shellcheck disable=SC2154 # _nc_eal and _nc_app: set by lib.sh's _nc_fwd_prepare
	_nc_root_script "$mode" "$exe" --file-prefix "$NC_FWD_PREFIX" --no-huge --no-pci -m 256 -l 0 \
		"${_nc_eal[@]}" -- --ready-file "$dir/ready" --go-file "$NC_FWD_GO" "${_nc_app[@]}" \
		>"$dir/ns.sh"
	_nc_root_rundirs+=("$NC_ROOT/run/dpdk/$NC_FWD_PREFIX")
	if [[ $mode == chroot ]]; then
		unshare --mount -- sh "$dir/ns.sh" >"$NC_FWD_OUT" 2>"$NC_FWD_ERR" </dev/null &
	else
		unshare --mount --pid --net --ipc --uts --fork --kill-child -- sh "$dir/ns.sh" \
			>"$NC_FWD_OUT" 2>"$NC_FWD_ERR" </dev/null &
	fi
	upid=$!
	nc_adopt "$upid"
	_nc_root_waitpids+=("$upid")
	NC_ROOT_WAITPID=$upid
	for ((i = 0; i < 2000; i++)); do # 20 s
		if [[ -s $dir/ready ]]; then
			NC_FWD_NSPID=$(cat "$dir/ready")
			if [[ $mode == chroot ]]; then
				NC_FWD_PID=$upid
			else
				read -r children <"/proc/$upid/task/$upid/children" || true
				NC_FWD_PID=${children%% *}
			fi
			export NC_FWD_PID NC_FWD_NSPID NC_FWD_PREFIX NC_FWD_DIR NC_FWD_OUT NC_FWD_ERR NC_FWD_GO
			[[ -n $NC_FWD_PID ]] && return 0
			nc_log "nc_root_start: no process under unshare $upid"
			return 1
		fi
		if ! _nc_alive "$upid"; then
			nc_log "nc_fwd ($mode, DPDK root $NC_ROOT) exited before it was ready; its stderr:"
			cat "$NC_FWD_ERR" >&2
			return 1
		fi
		sleep 0.01
	done
	nc_log "nc_fwd ($mode) not ready after 20 s; its stderr:"
	cat "$NC_FWD_ERR" >&2
	return 1
}

# nc_root_exec MODE PREFIX CMD ARGS...: any program of the root (e.g. /usr/bin/dpdk-testpmd) in
# the background as MODE, its DPDK --file-prefix PREFIX (its runtime directory is removed at
# exit); NC_ROOT_PID is its host pid (chroot mode: the program itself). Killed at exit.
nc_root_exec() {
	local mode=$1 prefix=$2 dir upid children
	shift 2
	nc_tmpdir dir
	_nc_root_script "$mode" "$@" >"$dir/ns.sh"
	_nc_root_rundirs+=("$NC_ROOT/run/dpdk/$prefix")
	if [[ $mode == chroot ]]; then
		unshare --mount -- sh "$dir/ns.sh" >"$dir/stdout" 2>"$dir/stderr" </dev/null &
	else
		# shellcheck disable=SC2046 # the option, or nothing
		unshare $([[ -z ${NC_ROOT_USERNS:-} ]] || echo --user --map-root-user) --mount --pid \
			--net --ipc --uts --fork --kill-child -- sh "$dir/ns.sh" \
			>"$dir/stdout" 2>"$dir/stderr" </dev/null &
	fi
	upid=$!
	nc_adopt "$upid"
	NC_ROOT_PID=$upid
	if [[ $mode != chroot ]]; then
		sleep 0.5
		read -r children <"/proc/$upid/task/$upid/children" || true
		NC_ROOT_PID=${children%% *}
	fi
	NC_ROOT_EXEC_ERR=$dir/stderr
	export NC_ROOT_PID NC_ROOT_EXEC_ERR
}

nc_root_wait() {
	local limit=${1:-30} i status=0 pid=$NC_ROOT_WAITPID
	for ((i = 0; i < limit * 100; i++)); do
		_nc_alive "$pid" || break
		sleep 0.01
	done
	if _nc_alive "$pid"; then
		nc_log "nc_fwd (PID $NC_FWD_PID) still running after ${limit} s; killing it"
		_nc_kill "$pid"
		return 124
	fi
	wait "$pid" || status=$?
	return "$status"
}

nc_root_stop() {
	_nc_alive "$NC_FWD_PID" && kill -TERM "$NC_FWD_PID" 2>/dev/null
	nc_root_wait "${1:-10}"
}

_nc_root_cleanup() {
	local d
	for d in "${_nc_root_rundirs[@]}"; do
		rm -rf "$d"
	done
	_nc_root_rundirs=()
}
trap '_nc_root_cleanup_all' EXIT
_nc_root_cleanup_all() {
	nc_cleanup
	_nc_root_cleanup
}
