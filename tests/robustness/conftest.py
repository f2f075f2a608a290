from collections import Counter

# Requests sent by the fuzzers and the 5xx among them, printed at the end.
FUZZ_STATS = Counter()


def pytest_terminal_summary(terminalreporter):
    if FUZZ_STATS:
        figures = ", ".join(f"{name}: {count}" for name, count in sorted(FUZZ_STATS.items()))
        terminalreporter.write_line(f"fuzzing: {figures}")
