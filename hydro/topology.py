"""Graph views of a network: the graph cut at its fixed-head nodes, zones and paths.

Fixed-head nodes (reservoirs and tanks) split a network into pieces that can be sized and
checked one by one: each link end at a source gets its own copy of that source, the pair
``("T1", "P3")`` for tank ``T1`` seen from link ``P3``. A copy is a tuple, never a string, so
it cannot collide with a node ID whatever characters the ID holds (EPANET allows ``@``, ``#``
and the like in IDs).
"""

from __future__ import annotations

import hashlib

import networkx as nx
import wntr

from hydro.errors import InputError


def source_names(wn: wntr.network.WaterNetworkModel) -> set[str]:
    """Reservoirs and tanks: the nodes whose head is fixed at each time step."""
    return set(wn.reservoir_name_list) | set(wn.tank_name_list)


def cut_at_sources(
    wn: wntr.network.WaterNetworkModel, sources: set[str] | None = None
) -> nx.MultiGraph:
    """The network's graph with each source split into one copy per link.

    A copy is the tuple ``(source, link)`` (see :func:`is_source_copy`); every other node is
    the node's ID. Edges are keyed by link name. Every connected piece of the result is fed
    only through the copies of sources it holds.
    """
    sources = source_names(wn) if sources is None else sources
    graph = nx.MultiGraph()
    for name, link in wn.links():
        a, b = link.start_node_name, link.end_node_name
        graph.add_edge((a, name) if a in sources else a, (b, name) if b in sources else b, key=name)
    return graph


def is_source_copy(node) -> bool:
    """True for a copy of a source in :func:`cut_at_sources` (a ``(source, link)`` pair)."""
    return isinstance(node, tuple)


#: The longest node ID EPANET (and WNTR) accept [characters].
MAX_ID_CHARS = 31


def case_copy(node: str, case: str, taken) -> str:
    """The name of ``node``'s copy for the design case ``case``, never a name in ``taken``.

    ``"J1@tap-flows"`` when that is not a node of the network (``taken``) and fits in
    EPANET's 31 characters; else ``"~"`` and a hash of both (``"~3fa2c1..."``), lengthened
    until it is not taken either. The same arguments always give the same name.

    Examples
    --------
    >>> case_copy("J1", "tap flows", {"J1"})
    'J1@tap-flows'
    >>> case_copy("J1", "tap flows", {"J1", "J1@tap-flows"}).startswith("~")
    True
    """
    name = f"{node}@{case.replace(' ', '-')}"
    if len(name) <= MAX_ID_CHARS and name not in taken:
        return name
    digest = hashlib.sha1(f"{node}\0{case}".encode("utf-8", "surrogatepass")).hexdigest()
    for length in range(12, MAX_ID_CHARS):
        name = "~" + digest[:length]
        if name not in taken:
            return name
    raise InputError(
        f"node {node}: no free name for its copy in the {case} case"
    )  # pragma: no cover


def device_ids(node: str, prefix: str, suffix: str, room: int = 0) -> tuple[str, str]:
    """The link and outlet junction names of a device at ``node``: ``<prefix><node>`` and
    ``<node><suffix>``, within EPANET's 31 characters.

    When either is longer (less ``room`` characters kept free for a name built on the
    link's, such as a pump's curves), the node's name is cut and followed by ``~`` and six
    hexadecimal digits of a hash of the whole name, so the names stay distinct and the same
    node always gives the same names; the prefix and suffix stay, and the link still starts
    at ``node`` itself, which is how the device is traced back to its junction.

    Examples
    --------
    >>> device_ids("J7", "PRV_", "_PRV")
    ('PRV_J7', 'J7_PRV')
    >>> link, outlet = device_ids("N" * 30, "PRV_", "_PRV")
    >>> len(link) <= 31 and len(outlet) <= 31 and link.startswith("PRV_N")
    True
    """
    limit = MAX_ID_CHARS - room
    link, outlet = f"{prefix}{node}", f"{node}{suffix}"
    if len(link) <= limit and len(outlet) <= MAX_ID_CHARS:
        return link, outlet
    digest = hashlib.sha1(node.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    keep = limit - len(prefix) - len(suffix) - 7  # "~" and the digest
    stem = f"{node[:keep]}~{digest}"
    return f"{prefix}{stem}", f"{stem}{suffix}"


def zones(wn: wntr.network.WaterNetworkModel) -> tuple[dict[str, str], dict[str, str]]:
    """Pipe class and node zone (``transmission`` or ``distribution``) from the topology.

    The network is cut at its fixed-head nodes (reservoirs and tanks). A piece that carries no
    demand (a rising main, a tap-off line between a main and a tank) is transmission; every
    other piece is distribution.
    """
    graph = cut_at_sources(wn)
    pipe_zone, node_zone = {}, {}
    for component in nx.connected_components(graph):
        demand = 0.0
        for n in component:
            if not is_source_copy(n):
                node = wn.get_node(n)
                demand += sum(abs(d.base_value) for d in node.demand_timeseries_list)
        zone = "distribution" if demand > 0 else "transmission"
        sub = graph.subgraph(component)
        for _, _, link in sub.edges(keys=True):
            pipe_zone[link] = zone
        for n in component:
            if not is_source_copy(n):
                node_zone[n] = zone
    return pipe_zone, node_zone


def served_junctions(wn: wntr.network.WaterNetworkModel, tank: str) -> set[str]:
    """Junctions of the distribution pieces that touch ``tank``."""
    pipe_zone, _ = zones(wn)
    graph = nx.Graph()
    for name, link in wn.links():
        if pipe_zone.get(name) == "distribution":
            graph.add_edge(link.start_node_name, link.end_node_name)
    if tank not in graph:
        return set()
    fixed = source_names(wn)
    served, stack = set(), list(graph.neighbors(tank))
    seen = {tank}
    while stack:
        n = stack.pop()
        if n in seen or n in fixed:
            continue
        seen.add(n)
        served.add(n)
        stack.extend(graph.neighbors(n))
    return served


def shortest_path_links(wn: wntr.network.WaterNetworkModel, start: str, end: str) -> list[str]:
    """Links on the shortest path (by length) from node ``start`` to node ``end``."""
    graph = nx.Graph()
    for name, link in wn.links():
        length = getattr(link, "length", 1.0)
        graph.add_edge(link.start_node_name, link.end_node_name, name=name, length=length)
    try:
        nodes = nx.shortest_path(graph, start, end, weight="length")
    except (nx.NetworkXNoPath, nx.NodeNotFound) as exc:
        raise InputError(f"no path between {start} and {end} in the network") from exc
    return [graph.edges[a, b]["name"] for a, b in zip(nodes[:-1], nodes[1:], strict=True)]


def unused_branches(
    wn: wntr.network.WaterNetworkModel, demand_nodes
) -> tuple[list[str], list[str]]:
    """Junctions and links that carry no demand: dead-end branches with no demand node in them.

    A junction that is not in ``demand_nodes`` and ends a branch (one link, or none) carries
    nothing; removing it may make its neighbour a dead end in turn, so junctions are removed
    until none is left to remove. Sources (reservoirs and tanks) and the nodes of
    ``demand_nodes`` are never removed; a loop is never removed (water may flow round it).
    In a branched network this is every pipe with no demand node below it.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not modified).
    demand_nodes : iterable of str
        Nodes that draw water (the village nodes of a scenario).

    Returns
    -------
    (list of str, list of str)
        The junctions and the links of those branches, in the network's order.

    Examples
    --------
    >>> wn = wntr.network.WaterNetworkModel()
    >>> wn.add_reservoir("R", base_head=100)
    >>> for n in ("A", "B", "C"):
    ...     wn.add_junction(n)
    >>> for name, a, b in (("P1", "R", "A"), ("P2", "A", "B"), ("P3", "A", "C")):
    ...     wn.add_pipe(name, a, b)
    >>> unused_branches(wn, {"B"})
    (['C'], ['P3'])
    """
    graph = nx.MultiGraph()
    graph.add_nodes_from(wn.node_name_list)
    for name, link in wn.links():
        graph.add_edge(link.start_node_name, link.end_node_name, key=name)
    keep = source_names(wn) | set(demand_nodes)
    removed_nodes, removed_links = set(), set()
    ends = [n for n in graph if n not in keep and graph.degree(n) <= 1]
    while ends:
        node = ends.pop()
        if node not in graph:
            continue
        neighbours = [b for _, b, _ in graph.edges(node, keys=True)]
        removed_links.update(k for _, _, k in graph.edges(node, keys=True))
        graph.remove_node(node)
        removed_nodes.add(node)
        ends.extend(b for b in neighbours if b not in keep and graph.degree(b) <= 1)
    return (
        [n for n in wn.junction_name_list if n in removed_nodes],
        [n for n in wn.link_name_list if n in removed_links],
    )
