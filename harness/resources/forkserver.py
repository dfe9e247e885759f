"""Started once per (interpreter, environment, worker) as `python -I -c <this file>` (stdlib only,
Python 3.8+ and PyPy): every load of a cell is still its own process, forked from this one instead
of started from nothing, so the interpreter's start-up is paid once per run rather than per load.

One JSON request per stdin line: {"argv": [...], "code": "call.py's source", "cwd": DIR, "stdout":
FILE, "stderr": FILE, "timeout": SECONDS}. The child becomes what `python -I -c CODE ARGV` run in
CWD would be (its own stdout and stderr files, stdin from /dev/null, its own process group), then
ends through the interpreter's own finalisation, so a crash at exit is seen as it would be. One JSON
line answers: {"returncode": N (negative: killed by that signal, as subprocess says it),
"timed_out": BOOL}. Nothing else runs in the server, and nothing of the wheel: what a child inherits
beyond a fresh start is stdlib modules already imported, call.py's own (which it imports first
anyway) and the loop's (select, signal).
"""

import contextlib
import gc
import importlib.machinery  # noqa: F401 - call.py's imports, done once here instead of in every child
import importlib.util  # noqa: F401
import json
import os
import select
import signal
import sys
import threading  # noqa: F401
import time
import types  # noqa: F401
import warnings  # noqa: F401


def child(request):
    """In the forked child: become the load, run it, and leave through SystemExit (never returns)."""
    os.setpgid(0, 0)  # a timeout kills the load's whole group, as for a load started on its own
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        target = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own streams, left open at exit
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    os.chdir(request["cwd"])
    sys.argv = ["-c", *request["argv"]]
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        exec(request["code"], namespace)  # noqa: S102 - call.py, the harness's own
    except SystemExit:
        raise
    except BaseException:
        import traceback  # noqa: PLC0415 - only a failing load needs it

        traceback.print_exc()
        raise SystemExit(1) from None
    raise SystemExit(0)


def wait(pid, done, timeout):
    """The child's status as subprocess reports it, and whether the timeout killed it."""
    deadline = time.monotonic() + timeout
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            with contextlib.suppress(OSError):  # already gone
                os.killpg(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([done], [], [], left)
        if ready:  # the child's end of the pipe closed: it has exited (or exec'd a program, it does not)
            break
    _, status = os.waitpid(pid, 0)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return {"returncode": code, "timed_out": timed_out}


def serve():
    # The server's own objects, out of the collector's sight: a child's collections then do not touch
    # (and copy, page by page) every object it inherited; they are alive in the server anyway.
    gc.collect()
    gc.freeze()
    compiled = {}  # call.py's source -> its code object, compiled once and not in every child
    for line in sys.stdin:
        request = json.loads(line)
        code = compiled.get(request["code"])
        if code is None:
            code = compiled[request["code"]] = compile(request["code"], "<string>", "exec")
        request["code"] = code
        done, held = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(done)
            child(request)  # held stays open in the child until it exits: that is how the server knows
        with contextlib.suppress(OSError):  # also here, so a timeout that comes first still finds the group
            os.setpgid(pid, pid)
        os.close(held)
        try:
            answer = wait(pid, done, request["timeout"])
        finally:
            os.close(done)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
