from droplint.report import Severity
from droplint.rule import Rule


class ParseError(Rule):
    """
    ## What it does
    Reports a file that cannot be parsed: a syntax error, or bytes that are not valid in the
    file's encoding. Emitted by the source loader; the other files are still checked.

    ## Why is this bad?
    Nothing in the file can be analyzed, so any dropout mistake in it goes unreported.

    ## Fix safety
    No automatic fix. droplint never writes to a file that does not parse.

    ## References
    - [Python grammar](https://docs.python.org/3/reference/grammar.html)
    """

    code = "DL900"
    name = "parse-error"
    severity = Severity.ERROR
    summary = "a file cannot be parsed (syntax error, bad encoding); cannot be ignored"
    loader_only = True
