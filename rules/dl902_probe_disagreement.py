from droplint.report import Severity
from droplint.rule import Rule


class ProbeDisagreement(Rule):
    """
    ## What it does
    With `droplint probe model.keras` or `droplint.analyze(model, probe=True)`, every dropout
    site of a built model is run in training mode (seeded, on an input of the site's real
    shape; for recurrent layers, the cell's mask generation) and the zeros are measured: along
    which axes the pattern is constant, whether it differs between samples and between
    timesteps. Each gate's mask of a recurrent layer is measured on its own. This rule reports
    a site where the measurement disagrees with what droplint says the dropout masks, and only
    a difference that is statistically certain: its chance, were droplint's claim right, is
    below 1e-6 (a rare mask seen in few draws is no evidence), stated after each difference.

    ## Why is this bad?
    droplint's explanations (and the rules built on them) assume a mask shape for each Keras
    version. A disagreement means the installed Keras behaves differently from that
    assumption: a Keras release changed behaviour, a custom subclass overrides the layer, or
    droplint is wrong. Either way the other findings for that site may be wrong too; trust
    the measurement and please report it.

    Emitted by the model loader when probing; it never fires on source files.

    ## Fix safety
    No automatic fix: the measurement is a fact about the installed Keras, not about your code.

    ## References
    - RULES.md section 1: what each dropout masks, by Keras version
    """

    code = "DL902"
    name = "probe-disagreement"
    severity = Severity.WARNING
    summary = ("probe: running the layer in training mode drops something other than what "
               "droplint claims (built models only)")

    def finding(self, ctx, site, disagreements: list[str]):
        """The finding for one probed site whose measured mask disagrees with the claim."""
        layer = site.node.layer
        what = f" ({site.argument}={site.rate})" if site.argument else ""
        message = (f"{layer.kind} '{layer.origin.layer_name}'{what}: running it in training "
                   f"mode disagrees with droplint's explanation: {'; '.join(disagreements)}. "
                   "Trust the measurement; the other findings for this site may be wrong.")
        return ctx.report(self, site.node, message, argument=site.argument, site=site)
