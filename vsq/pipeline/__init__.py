"""One configuration's run, each step computed once, lazily, through the content-addressed cache: builds,
one evaluation pass, verdicts, results.json."""
