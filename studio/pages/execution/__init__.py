"""One execution followed live: header, topology, Gantt, logs, outputs and actions."""
