"""A jvs-versioned dataset for ``mlflow.log_input``: the ``jvs`` dataset source.

URI: ``jvs:///path/to/repo?snapshot=<id>&path=data/`` (``&worktree=<name>`` when the snapshot
was taken outside ``main``). MLflow resolves such URIs with :class:`JvsDatasetSource` (entry
point ``mlflow.dataset_source``), and ``mlflow.data.from_jvs(...)`` (entry point
``mlflow.dataset_constructor``) builds a dataset from a workspace::

    ds = mlflow.data.from_jvs("/data/repo/main", path="data/", snapshot=snapshot_id)
    mlflow.log_input(ds, context="training")      # shown in the run page's Datasets panel
    files = ds.source.load()                       # a fork holding the snapshot; returns <fork>/data/

No ``from __future__ import annotations`` here: MLflow checks ``from_jvs``'s return annotation
as a class at registration.
"""

import os
from pathlib import Path
from typing import Any, Dict, Optional, Union
from urllib.parse import parse_qs, quote, unquote, urlparse

from mlflow.data.dataset_source import DatasetSource
from mlflow.data.meta_dataset import MetaDataset

from . import _workspace
from .errors import MlflowJvsError

SOURCE_TYPE = "jvs"
_DIGEST_LEN = 12


class JvsDatasetSource(DatasetSource):
    """Files at ``path`` inside a jvs snapshot of the repository at ``repo``."""

    def __init__(self, uri: str) -> None:
        parsed = urlparse(uri)
        if parsed.scheme != SOURCE_TYPE:
            raise MlflowJvsError("not a jvs dataset URI (jvs:///<repo>?snapshot=<id>&path=<path>): %r" % uri)
        query = parse_qs(parsed.query)
        snapshot = query.get("snapshot", [""])[0]
        if not parsed.path or not snapshot:
            raise MlflowJvsError("a jvs dataset URI needs a repository path and snapshot=<id>: %r" % uri)
        self._uri = uri
        self._repo = unquote(parsed.path)
        self._snapshot_id = snapshot
        self._path = query.get("path", [""])[0]
        self._worktree = query.get("worktree", [""])[0] or None

    @classmethod
    def from_parts(cls, repo: Union[str, "os.PathLike[str]"], snapshot_id: str, path: str = "",
                   worktree: Optional[str] = None) -> "JvsDatasetSource":
        """The source for ``path`` in snapshot ``snapshot_id`` of the repository at ``repo``."""
        uri = "jvs://%s?snapshot=%s&path=%s" % (quote(os.fspath(repo)), quote(snapshot_id, safe=""),
                                                quote(path, safe="/"))
        if worktree and worktree != "main":
            uri += "&worktree=%s" % quote(worktree, safe="")
        return cls(uri)

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def repo(self) -> str:
        """The repository root."""
        return self._repo

    @property
    def snapshot_id(self) -> str:
        return self._snapshot_id

    @property
    def path(self) -> str:
        """The dataset's path inside the snapshot ("" = all of it)."""
        return self._path

    @property
    def worktree(self) -> Optional[str]:
        """The worktree the snapshot was taken in (None = ``main``): what ``restore=True`` restores."""
        return self._worktree

    @staticmethod
    def _get_source_type() -> str:
        return SOURCE_TYPE

    def load(self, into: Optional[str] = None, *, restore: bool = False) -> str:
        """Get the snapshot's files and return the dataset's local path.

        By default the snapshot is forked into the worktree ``into`` (default
        ``dataset-<8 hex of the id>``; loading again reuses it, restored to the snapshot), leaving
        every existing worktree alone. With ``restore=True`` the snapshot's worktree is restored
        in place instead (unsnapshotted changes there are overwritten).
        """
        if restore and into is not None:
            raise MlflowJvsError("pass either into= (fork) or restore=True, not both")
        with _workspace.open_workspace(self._repo, worktree=self._worktree) as ws:
            snap = _workspace.resolve(ws, self._snapshot_id)
            if restore:
                root = _workspace.restore(ws, snap.id)
            else:
                root = _workspace.fork(ws, snap.id, into or "dataset-%s" % _workspace.short(snap.id), reuse=True)
        return str(Path(root, self._path)) if self._path else str(root)

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return isinstance(raw_source, str) and urlparse(raw_source).scheme == SOURCE_TYPE

    @classmethod
    def _resolve(cls, raw_source: Any) -> "JvsDatasetSource":
        return cls(str(raw_source))

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"uri": self._uri, "repo": self._repo, "snapshot_id": self._snapshot_id,
                             "path": self._path}
        if self._worktree:
            d["worktree"] = self._worktree
        return d

    @classmethod
    def from_dict(cls, source_dict: Dict[Any, Any]) -> "JvsDatasetSource":
        return cls(str(source_dict["uri"]))


def from_jvs(workspace_path: Union[str, "os.PathLike[str]"], path: str = "", snapshot: Any = "HEAD",
             name: Optional[str] = None, digest: Optional[str] = None) -> MetaDataset:
    """A dataset for ``mlflow.log_input``: ``path`` inside a snapshot of the workspace.

    Args:
        workspace_path: a path inside the jvs worktree.
        path: the dataset's path relative to the worktree (``"data/"``; ``""`` = everything).
        snapshot: the snapshot (id, tag, ``jvs.Snapshot``...; default ``"HEAD"``, what the files
            are now *if* they are saved: take or log a snapshot first, e.g. with
            :func:`mlflow_jvs.log_jvs_snapshot`, and pass its id).
        name: the dataset's name (default: ``path`` without its trailing slash, else the
            repository directory's name).
        digest: default: the first 12 hex digits of the snapshot's payload hash.

    Returns:
        an ``mlflow.data.meta_dataset.MetaDataset`` whose ``source`` is a :class:`JvsDatasetSource`.
    """
    with _workspace.open_workspace(workspace_path) as ws:
        snap = _workspace.resolve(ws, snapshot)
        source = JvsDatasetSource.from_parts(ws.repo_root, snap.id, path, ws.worktree_name)
        default_name = path.strip("/") or ws.repo_root.name
        # MLflow's own MetaDataset: its base class declares `profile` abstract for type checkers
        # only (MLflow documents instantiating it).
        return MetaDataset(source, name=name or default_name,  # type: ignore[abstract]
                           digest=digest or snap.payload_root_hash[:_DIGEST_LEN])
