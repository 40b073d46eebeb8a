"""The package's provenance in the CASE/UCO ontology (`data/provenance.jsonld`), the form forensic tools
exchange it in (caseontology.org): the capture, hashing, derivation, review and export of the material as
CASE investigative actions, each with its performer (the officer), its instruments (the tools and their
versions), its times, the objects it acted on and the results it gave; every packaged file of the
captures with its size and hashes; and one provenance record per exhibit reference.

It is built from the same records as the report and must pass `case_validate` (the `case-utils` package)
against the CASE ontology. Node identifiers are stable: the same package gives the same graph.
SOP 6.3 (material shared with the officer in the case) and 9.1 (how the content was captured).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from ... import __version__

if TYPE_CHECKING:
    from .contents import Package

CONTEXT = {
    "kb": "urn:ohrt:kb:",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
CASE_VERSION = "CASE 1.x (validated with case_validate from case-utils)"


class Graph:
    """The nodes of one package's graph, each named by a UUID derived from the package and its key."""

    def __init__(self, package_name: str):
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:ohrt:package:{package_name}")
        self.nodes: dict[str, dict] = {}

    def iri(self, kind: str, key: str) -> str:
        return f"kb:{kind}-{uuid.uuid5(self.namespace, f'{kind}:{key}')}"

    def add(self, kind: str, key: str, node: dict) -> dict:
        iri = self.iri(kind, key)
        if iri not in self.nodes:
            self.nodes[iri] = {"@id": iri, **node}
        return {"@id": iri}

    def person(self, name: str | None, number: str | None) -> dict:
        label = f"{name} ({number})" if name and number else (name or number or "unrecorded officer")
        return self.add("person", str(number or name), {"@type": "uco-identity:Person", "uco-core:name": label})

    def tool(self, name: str, version: str | None) -> dict:
        node = {"@type": "uco-tool:Tool", "uco-core:name": name}
        if version:
            node["uco-tool:version"] = str(version)
        return self.add("tool", f"{name}:{version}", node)

    def url(self, value: str) -> dict:
        facet = self.add("url-facet", value, {"@type": "uco-observable:URLFacet", "uco-observable:fullValue": value})
        return self.add("url", value, {"@type": "uco-observable:URL", "uco-core:hasFacet": [facet]})

    def file(self, path: str, size: int | None, sha256: str | None, md5: str | None = None) -> dict:
        """A file as it lies in the package (`path` relative to the bag's folder)."""
        facet = {"@type": "uco-observable:FileFacet", "uco-observable:fileName": Path(path).name,
                 "uco-observable:filePath": path}
        if size is not None:
            facet["uco-observable:sizeInBytes"] = {"@type": "xsd:integer", "@value": str(int(size))}
        facets = [self.add("file-facet", path, facet)]
        hashes = []
        for method, value in (("SHA256", sha256), ("MD5", md5)):
            if value:
                hashes.append(self.add("hash", f"{path}:{method}", {
                    "@type": "uco-types:Hash", "uco-types:hashMethod": method,
                    "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": value}}))
        if hashes:
            facets.append(self.add("content-facet", path, {"@type": "uco-observable:ContentDataFacet",
                                                           "uco-observable:hash": hashes}))
        return self.add("file", path, {"@type": "uco-observable:File", "uco-core:hasFacet": facets})

    def action(self, key: str, name: str, *, start: str | None, end: str | None = None, performer: dict | None,
               instruments: list[dict], objects: list[dict], results: list[dict], description: str,
               environment: dict | None = None) -> dict:
        node: dict = {"@type": "case-investigation:InvestigativeAction", "uco-core:name": name,
                      "uco-core:description": description}
        if start:
            node["uco-action:startTime"] = {"@type": "xsd:dateTime", "@value": start}
        if end:
            node["uco-action:endTime"] = {"@type": "xsd:dateTime", "@value": end}
        if performer:
            node["uco-action:performer"] = performer
        if environment:
            node["uco-action:environment"] = environment
        for field, values in (("uco-action:instrument", instruments), ("uco-action:object", objects),
                              ("uco-action:result", results)):
            if values:
                node[field] = _unique(values)
        return self.add("action", key, node)

    def document(self) -> dict:
        return {"@context": CONTEXT, "@graph": list(self.nodes.values())}


def _unique(refs: list[dict]) -> list[dict]:
    return [{"@id": iri} for iri in dict.fromkeys(r["@id"] for r in refs)]


def build(package: "Package", exhibits: list[dict], officer_names: dict[str, str],
          written: list[dict], *, team: str | None = None, root: Path | None = None) -> dict:
    """The graph of a package: `exhibits` (as `exhibits.list_exhibits` gives them), `officer_names` (number →
    name, from the roster) and `written` (the package's own files made before this one: path, bytes, sha256)."""
    graph = Graph(package.name)
    package_root = root
    ohrt_tool = graph.tool("ohrt", __version__)
    team = graph.add("organization", "team", {"@type": "uco-identity:Organization",
                                               "uco-core:name": team or "ohrt home"})
    exporter = graph.person(package.officer.get("name"), package.officer.get("number"))
    everything: list[dict] = []
    originals_by_capture: dict[str, list[tuple[str, dict]]] = {}
    for capture in package.captures:
        manifest = capture["manifest"]
        folder = f"data/captures/{capture['id']}"
        officer = manifest.get("officer") or {}
        performer = graph.person(officer.get("name") or officer_names.get(capture["officer"]),
                                 officer.get("number") or capture["officer"])
        tools = [graph.tool(name.replace("_", "-"), version)
                 for name, version in sorted((manifest.get("tools") or {}).items())]
        page = manifest.get("page") if isinstance(manifest.get("page"), dict) else None
        browser = (page or {}).get("browser") or {}
        if browser.get("name"):
            tools.append(graph.tool(str(browser["name"]), browser.get("version")))
        sources = [graph.url(u) for u in dict.fromkeys(
            u for u in (manifest.get("requested_url"), manifest.get("final_url"), (page or {}).get("final_url")) if u)]
        originals, derived = [], []
        for entry in manifest.get("files", []):
            if entry.get("status") != "ok" or not entry.get("path"):
                continue
            node = graph.file(f"{folder}/{entry['path']}", entry.get("bytes"), entry.get("sha256"), entry.get("md5"))
            (originals if entry.get("role") == "original" else derived).append((entry, node))
        originals_by_capture[capture["id"]] = [(e["sha256"], n) for e, n in originals]
        seal = [graph.file(f"{folder}/{name}", *_size_and_hash(capture, name)) for name in
                ("manifest.json", "manifest.sig", "SHA256SUMS")]
        host = manifest.get("host")
        environment = graph.add("computer", str(host), {
            "@type": "uco-observable:ObservableObject", "uco-core:name": str(host),
            "uco-core:hasFacet": [graph.add("computer-facet", str(host), {
                "@type": "uco-observable:ComputerSpecificationFacet", "uco-observable:hostname": str(host)})]}) \
            if host else None
        how = "downloaded with yt-dlp" if manifest.get("method") == "download" else "ingested from a file saved another way"
        graph.action(f"capture:{capture['id']}", "capture", start=manifest.get("started_at"),
                     end=manifest.get("finished_at"), performer=performer, instruments=[ohrt_tool, *tools],
                     objects=sources, results=[n for _, n in originals] + [n for _, n in derived if
                                                                        n not in [o for _, o in originals]],
                     environment=environment,
                     description=f"Capture {capture['id']} of task {package.task_id}: {how} (SOP 9.1).")
        graph.action(f"hashing:{capture['id']}", "hashing", start=manifest.get("finished_at"), performer=performer,
                     instruments=[ohrt_tool], objects=[n for _, n in originals + derived], results=seal,
                     description=f"Capture {capture['id']}: every file hashed (SHA-256, MD5) into the manifest and "
                                 "SHA256SUMS, and the manifest signed with the home's Ed25519 key.")
        by_sha = {e.get("sha256"): n for e, n in originals + derived}
        made = [(e, n) for e, n in derived if e.get("parent_sha256") in by_sha]
        if made:
            ffmpeg = graph.tool("ffmpeg", (manifest.get("tools") or {}).get("ffmpeg"))
            graph.action(f"derivation:{capture['id']}", "derivation", start=manifest.get("finished_at"),
                         performer=performer, instruments=[ohrt_tool, ffmpeg],
                         objects=[by_sha[e["parent_sha256"]] for e, _ in made], results=[n for _, n in made],
                         description=f"Capture {capture['id']}: review copies, sound, key frames and contact sheet "
                                     "made from the original; each names its parent and the command that made it.")
        everything += [n for _, n in originals + derived] + seal
        for stamp in (package.timestamps or {}).get("captures") or []:
            if stamp.get("capture") != capture["id"]:
                continue
            authority = graph.add("organization", f"tsa:{stamp.get('tsa')}", {
                "@type": "uco-identity:Organization", "uco-core:name": str(stamp.get("tsa") or "time-stamping authority")})
            reply = graph.file(f"data/{stamp['reply']}", *_size_and_hash_at(package_root, stamp["reply"]))
            graph.action(f"timestamp:{capture['id']}", "trusted timestamp", start=stamp.get("gen_time"),
                         performer=authority, instruments=[graph.tool("openssl ts (RFC 3161)", None)],
                         objects=[seal[0]], results=[reply],
                         description=f"Capture {capture['id']}: its manifest (SHA-256 {stamp.get('manifest_sha256')}) "
                                     f"stamped by a trusted time-stamping authority, ohrt request {stamp.get('anchor')}.")
            everything.append(reply)
    own = {f["path"]: graph.file(f["path"], f["bytes"], f["sha256"]) for f in written}
    review_file = own.get("data/review/review.json")
    for review in package.reviews:
        objects = [n for cid, items in originals_by_capture.items() if cid == review.get("capture_id") for _, n in items]
        graph.action(f"review:{review['id']}", "review", start=review.get("reviewed_at"),
                     performer=graph.person(officer_names.get(review.get("officer")), review.get("officer")),
                     instruments=[ohrt_tool], objects=objects, results=[review_file] if review_file else [],
                     description=f"Review {review['id']} (SOP 9.2-9.4): decision {review.get('decision')}, "
                                 f"format {review.get('format')}"
                                 + (f"; superseded by {review['superseded_by']}" if review.get("superseded_by") else "")
                                 + ".")
    for exhibit in exhibits:
        items = dict(originals_by_capture.get(exhibit["capture_id"], []))
        node = items.get(exhibit.get("sha256"))
        if node is None:
            continue
        graph.add("provenance-record", exhibit["reference"], {
            "@type": "case-investigation:ProvenanceRecord", "case-investigation:exhibitNumber": exhibit["reference"],
            "uco-core:description": f"Exhibit {exhibit['reference']}: item {exhibit['item']} of capture "
                                    f"{exhibit['capture_id']}, produced by officer {exhibit['officer']}.",
            "uco-core:object": [node]})
    graph.action("export", "export", start=package.exported_at, performer=exporter,
                 instruments=[ohrt_tool, graph.tool("bagit.py", None)], objects=everything,
                 results=list(own.values()),
                 description=f"Evidence package {package.name} of task {package.task_id} for the officer in the case "
                             "(SOP 6.3), a BagIt bag sealed with the home's key; the disclosure is in the audit chain.")
    graph.add("investigation", package.task_id, {
        "@type": "case-investigation:Investigation", "uco-core:name": package.task_id,
        "uco-core:description": f"ohrt task {package.task_id}: online content referred to the team.",
        "uco-core:object": [{"@id": iri} for iri, node in graph.nodes.items()
                            if node["@type"] == "case-investigation:InvestigativeAction"] + [team]})
    return graph.document()


def _size_and_hash(capture: dict, name: str) -> tuple[int | None, str | None]:
    import hashlib

    path = Path(capture["path"]) / name
    if not path.is_file():
        return None, None
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


def _size_and_hash_at(root: Path | None, rel: str) -> tuple[int | None, str | None]:
    """A file of the payload being written (`rel` relative to data/): its size and SHA-256."""
    import hashlib

    path = root / rel if root else None
    if path is None or not path.is_file():
        return None, None
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


def write(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n")
