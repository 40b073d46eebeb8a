"""Development aids shared by the tests, the benchmarks and the demo; not part of the shipped ohrt."""
