# Kernel micro-benchmarks.
