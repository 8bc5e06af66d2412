"""Imports and name binding.

Imports bind names to dotted Keras/TensorFlow names (QName) and vote for the API the file uses
(keras, tf.keras, tf_keras); Keras imports are recorded in the graph with their positions (for
fixes that edit them). `bind` assigns a value to an assignment target (names, attributes of
user instances, tuple unpacking).
"""
from __future__ import annotations

import libcst as cst

from ...graph import UNKNOWN, ImportedName
from ..keras_names import keras_api
from ..values import Instance, QName
from .syntax import dotted


class Names:
    """Imports and binding."""

    def vote(self, api: str | None):
        if api is not None:
            self.api_votes[api] = self.api_votes.get(api, 0) + 1

    def do_import(self, node: cst.Import):
        for alias in node.names:
            path = dotted(alias.name)
            if path is None:
                continue
            if alias.asname is not None:
                self.bind(alias.asname.name, QName(path))
            else:
                head = path.partition(".")[0]
                self.frame.scope.vars[head] = QName(head)
            api = keras_api(path)
            self.vote(api)
            if path.partition(".")[0] in ("tensorflow", "keras", "tf_keras"):
                asname = alias.asname.name.value if alias.asname and isinstance(
                    alias.asname.name, cst.Name) else None
                self.add_import(node, "", path, asname, alias.name)  # `import tensorflow as tf`

    def do_import_from(self, node: cst.ImportFrom):
        module = dotted(node.module) if node.module is not None else None
        if node.relative or module is None:
            names = node.names
            if not isinstance(names, cst.ImportStar):
                for alias in names:
                    target = alias.asname.name if alias.asname else alias.name
                    if isinstance(target, cst.Name):
                        self.frame.scope.vars[target.value] = QName("." + target.value)
            return
        names = node.names
        is_keras = keras_api(module) is not None or (
            module == "tensorflow" and not isinstance(names, cst.ImportStar)
            and any(dotted(a.name) == "keras" for a in names))
        if is_keras:
            self.vote(keras_api(module) or "tf.keras")
        if isinstance(names, cst.ImportStar):
            if keras_api(module):
                self.frame.scope.star = module
            elif module.partition(".")[0] == "torch":  # defines Dropout, LSTM, ... itself
                self.frame.scope.star = None
            if is_keras:
                self.add_import(node, module, "*", None, names)
            return
        for alias in names:
            name = dotted(alias.name)
            if name is None:
                continue
            asname = alias.asname.name.value if alias.asname and isinstance(
                alias.asname.name, cst.Name) else None
            self.frame.scope.vars[asname or name] = QName(module + "." + name)
            if is_keras:
                self.add_import(node, module, name, asname, alias.name)

    def add_import(self, stmt, module, name, asname, name_node):
        imported = ImportedName(module, name, asname, None, None)
        self.graph.imports.append(imported)
        self.want(stmt, name_node)
        self.imports.append((stmt, name_node))
        self.unplaced_imports.append((imported, name_node, stmt))

    def bind(self, target, value):
        t = type(target)
        if t is cst.Name:
            self.frame.scope.vars[target.value] = value
        elif t is cst.Attribute:
            obj = self.eval(target.value)
            if isinstance(obj, Instance):
                obj.attrs[target.attr.value] = value
        elif t is cst.Tuple or t is cst.List:
            elements = target.elements
            starred = any(isinstance(e, cst.StarredElement) for e in elements)
            seq = value if isinstance(value, (tuple, list)) else None
            for i, element in enumerate(elements):
                if isinstance(element, cst.StarredElement):
                    self.bind(element.value, UNKNOWN)
                elif seq is not None and not starred and len(seq) == len(elements):
                    self.bind(element.value, seq[i])
                else:
                    self.bind(element.value, UNKNOWN)
        elif t is cst.Subscript:
            self.eval(target)
        elif t is cst.StarredElement:
            self.bind(target.value, UNKNOWN)
