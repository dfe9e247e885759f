"""Files that run elsewhere: inside probed interpreters (probe, call, surface symbols), in a C
compiler (surface_probe.c), or in the browser (report.css, report.js)."""
