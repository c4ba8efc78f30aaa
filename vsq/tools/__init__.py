"""External tools that cannot share vsq's environment (Sony's IMX500 converter): found, checked, run as
subprocesses with their logs kept."""
