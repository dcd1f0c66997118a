"""Daily channel digests: `/sessions digest …` and what the scheduler posts."""
