"""What each automatic check covers: RGAA 4.1 criteria and WCAG 2.2 success criteria.

The report (``report.py``) uses it to name the checks in French and to say,
for each RGAA 4.1 criterion and each WCAG 2.2 A/AA success criterion, whether
the suite checked it (by which checks, on how many state visits), whether the
manual checklist (``MANUAL_CHECKLIST.md``) covers it, or neither.

A check listed here covers a criterion in part: it tests what a machine can
see of it on the states the suite reaches, never the whole criterion (a
label's relevance, for one, needs a person). axe's criteria are the ones its
rules actually evaluated on each state (its RGAA-x.y.z tags, recorded by
``a11y.py``); the other checks cover the same criteria on every visit they run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

MANUAL_CHECKLIST = Path(__file__).parent / "MANUAL_CHECKLIST.md"


class Check(NamedTuple):
    label: str  # the check's name in the report
    rgaa: tuple[str, ...]  # RGAA 4.1 criteria it covers (axe: read from each record)
    wcag: tuple[str, ...]  # WCAG 2.2 success criteria it covers (axe: from each record)
    scope: str  # what the check looks at, in a few words


# One entry per check that a11y.Accessibility.check records, under the same key
# (test_suite_itself fails when a check has no entry, or an entry no check).
CHECKS: dict[str, Check] = {
    # WCAG 2.2 made 4.1.1 (Parsing) obsolete, and a validator does not judge 4.1.2
    # (names, roles, values: axe's and the snapshots' part): RGAA only.
    "valid HTML": Check(
        "HTML valide (Nu HTML Checker)",
        ("8.1", "8.2"),
        (),
        "Le document de l'état (sans JavaScript : tel que servi ; avec : après les "
        "échanges htmx) passé au Nu HTML Checker : type de document, balises, attributs et "
        "identifiants valides. Ce qu'il dit des requêtes de conteneur CSS, qu'il ne connaît "
        "pas encore, est listé à part, sans échec.",
    ),
    "axe": Check(
        "Règles automatiques axe-core (WCAG 2.2 AA, RGAA 4.1)",
        (),
        (),
        "Les critères des règles axe-core appliquées à la page, état par état "
        "(étiquettes RGAA d'axe-core) ; une règle « à revoir » compte comme appliquée.",
    ),
    "structure": Check(
        "Structure de la page (langue, titre, h1 unique, lien d'évitement, zone principale, "
        "liens vers les champs en erreur)",
        ("8.3", "8.4", "8.5", "8.6", "9.1", "9.2", "11.10", "12.7"),
        ("1.3.1", "2.4.1", "2.4.2", "3.1.1", "3.3.1"),
        "lang fr ou en ; un seul h1 ; titre « … - CMI », « Erreur : » quand des erreurs "
        "s'affichent, un titre par page ; lien « Aller au contenu » vers main#main ; "
        "chaque lien du récapitulatif d'erreurs mène le focus à son champ.",
    ),
    "status region": Check(
        "Région de statut (seulement le message attendu)",
        ("7.5",),
        ("4.1.3",),
        "La région de statut polie (#announcer) dit le message déclaré pour cet état, ou rien.",
    ),
    "wording": Check(
        "Rédaction lue à voix haute (élisions, phrases en capitales)",
        (),
        (),
        "« d'Inès » et non « de Inès », pas de phrase en capitales : une bonne pratique "
        "pour les lecteurs d'écran, sans critère RGAA ni WCAG.",
    ),
    "reflow 320 px": Check(
        "Pas de défilement horizontal à 320 px",
        ("10.11",),
        ("1.4.10",),
        "À 320 px CSS de large, la page ne défile pas horizontalement.",
    ),
    "text 200 % at 320 px": Check(
        "Texte à 200 % sur 320 px (rien de coupé ni de superposé, pas de défilement horizontal)",
        ("10.4", "10.11"),
        ("1.4.4", "1.4.10"),
        "Texte agrandi à 200 % sur un écran de 320 px : liens, boutons et champs de <main> "
        "entiers et disjoints, pas de défilement horizontal.",
    ),
    "forced colours and reduced motion": Check(
        "Couleurs forcées et animations réduites (focus visible, boutons encadrés)",
        ("3.3", "10.7"),
        ("1.4.11", "2.4.7"),
        "En couleurs forcées, le focus reste visible (contour d'au moins 2 px) à chaque "
        "arrêt de tabulation dans <main>, et les boutons gardent une bordure.",
    ),
    "ARIA snapshot": Check(
        "Arbre d'accessibilité (instantané ARIA)",
        ("6.2", "7.1", "9.1", "9.3", "11.1", "11.9"),
        ("1.3.1", "4.1.2"),
        "Rôles, noms, états et niveaux de titres de <main>, comparés à un instantané relu "
        "par une personne : tout changement échoue.",
    ),
    "spoken transcript": Check(
        "Transcription orale (lecteur d'écran virtuel)",
        ("7.1", "10.3"),
        ("1.3.1", "1.3.2", "4.1.2"),
        "Où est le focus, ce qui est annoncé, puis <main> lu du début à la fin par un "
        "lecteur d'écran virtuel, comparé à une transcription relue : tout changement échoue.",
    ),
}

# Checks whose failure carries a diff against a committed, reviewed file.
SNAPSHOT_CHECKS = ("ARIA snapshot", "spoken transcript")


def label(key: str) -> str:
    """A check's French name; an unknown check keeps its key."""
    check = CHECKS.get(key)
    return check.label if check else key


# The WCAG success criteria of the axe-core rules that carry each RGAA test tag
# (axe-core 4.14.1, the release pinned in axe-core.pin: axe.getRules() over the
# suite's tags). A record holds the RGAA tests axe evaluated, not its rules'
# WCAG tags; this table turns one into the other. 11.1.1 is also carried by the
# meter and progress bar rules (WCAG 1.1.1): left out, the service has neither.
AXE_TEST_WCAG: dict[str, tuple[str, ...]] = {
    "1.1.1": ("1.1.1",),
    "1.1.2": ("2.4.4", "4.1.2"),
    "1.1.3": ("1.1.1", "4.1.2"),
    "1.1.4": ("2.1.1",),
    "1.1.5": ("1.1.1",),
    "1.1.6": ("1.1.1",),
    "2.1.1": ("4.1.2",),
    "2.2.1": ("4.1.2",),
    "3.2.1": ("1.4.3",),
    "4.3.1": ("1.2.2",),
    "4.10.1": ("1.4.2",),
    "5.2.1": (),
    "5.4.1": ("1.3.1",),
    "5.7.1": ("1.3.1",),
    "5.7.4": ("1.3.1",),
    "6.1.5": ("2.5.3",),
    "6.2.1": ("2.4.4", "4.1.2"),
    "7.1.1": ("4.1.2",),
    "7.3.2": ("2.1.1",),  # and 2.1.3, level AAA
    "8.2.1": ("4.1.2",),
    "8.3.1": ("3.1.1",),
    "8.4.1": ("3.1.1",),
    "8.5.1": ("2.4.2",),
    "8.8.1": ("3.1.2",),
    "9.1.3": ("1.3.1",),
    "9.2.1": (),
    "9.3.1": ("1.3.1",),
    "9.3.3": ("1.3.1",),
    "10.4.2": ("1.4.4",),
    "10.6.1": ("1.4.1",),
    "10.8.1": ("1.3.1", "4.1.2"),
    "11.1.1": ("4.1.2",),
    "11.2.1": ("3.3.2",),
    "11.9.1": ("4.1.2",),
    "11.13.1": ("1.3.5",),
    "12.7.1": ("2.4.1",),
    "12.8.1": (),
    "13.1.2": ("2.2.1",),
    "13.8.1": ("2.2.2",),
    "13.9.1": ("1.3.4",),
}

# The 106 criteria of RGAA 4.1: number, short title, and the WCAG success criteria
# RGAA 4.1 gives as its references (DISIC/RGAA v4.1/JSON/criteres.json; 4.1.1
# Parsing, obsolete in WCAG 2.2, left out).
RGAA: dict[str, tuple[str, tuple[str, ...]]] = {
    "1.1": ("Image porteuse d'information : alternative textuelle", ("1.1.1",)),
    "1.2": ("Image de décoration ignorée par les aides techniques", ("1.1.1", "4.1.2")),
    "1.3": ("Alternative d'image pertinente", ("1.1.1", "4.1.2")),
    "1.4": ("Image CAPTCHA ou image-test : alternative pertinente", ("1.1.1",)),
    "1.5": ("CAPTCHA : solution d'accès alternatif", ("1.1.1",)),
    "1.6": ("Image porteuse d'information : description détaillée", ("1.1.1",)),
    "1.7": ("Description détaillée pertinente", ("1.1.1",)),
    "1.8": ("Image texte remplacée par du texte stylé", ("1.4.5",)),
    "1.9": ("Légende d'image reliée à son image", ("1.1.1", "4.1.2")),
    "2.1": ("Cadre : titre de cadre", ("4.1.2",)),
    "2.2": ("Titre de cadre pertinent", ("4.1.2",)),
    "3.1": ("Information pas donnée par la couleur seule", ("1.3.1", "1.4.1")),
    "3.2": ("Contraste du texte suffisant", ("1.4.3",)),
    "3.3": ("Contraste des composants d'interface et des graphiques", ("1.4.11",)),
    "4.1": ("Média pré-enregistré : transcription ou audiodescription", ("1.2.1", "1.2.3")),
    "4.2": ("Transcription ou audiodescription pertinente", ("1.2.1", "1.2.3")),
    "4.3": ("Média synchronisé : sous-titres", ("1.2.2",)),
    "4.4": ("Sous-titres pertinents", ("1.2.2",)),
    "4.5": ("Média pré-enregistré : audiodescription synchronisée", ("1.2.5",)),
    "4.6": ("Audiodescription pertinente", ("1.2.5",)),
    "4.7": ("Média temporel clairement identifiable", ("1.1.1",)),
    "4.8": ("Média non temporel : alternative", ("1.1.1",)),
    "4.9": ("Alternative de média non temporel pertinente", ("1.1.1",)),
    "4.10": ("Son déclenché automatiquement contrôlable", ("1.4.2",)),
    "4.11": ("Média temporel contrôlable au clavier et au pointeur", ("2.1.1", "2.1.2")),
    "4.12": ("Média non temporel contrôlable au clavier et au pointeur", ("2.1.1", "2.1.2")),
    "4.13": ("Média compatible avec les aides techniques", ("4.1.2",)),
    "5.1": ("Tableau de données complexe : résumé", ("1.3.1",)),
    "5.2": ("Résumé de tableau complexe pertinent", ("1.3.1",)),
    "5.3": ("Tableau de mise en forme : contenu linéarisé compréhensible", ("1.3.2", "4.1.2")),
    "5.4": ("Titre de tableau de données associé au tableau", ("1.3.1",)),
    "5.5": ("Titre de tableau de données pertinent", ("1.3.1",)),
    "5.6": ("En-têtes de tableau de données déclarés", ("1.3.1",)),
    "5.7": ("Cellules associées à leurs en-têtes", ("1.3.1",)),
    "5.8": ("Tableau de mise en forme sans éléments de tableau de données", ("1.3.1",)),
    "6.1": ("Lien explicite", ("1.1.1", "2.4.4", "2.5.3")),
    "6.2": ("Lien avec un intitulé", ("1.1.1", "2.4.4")),
    "7.1": ("Script compatible avec les aides techniques", ("2.5.3", "4.1.2")),
    "7.2": ("Alternative à un script pertinente", ("1.1.1", "4.1.2")),
    "7.3": ("Script contrôlable au clavier et au pointeur", ("1.3.1", "2.1.1", "2.4.7")),
    "7.4": ("Changement de contexte par script : averti ou contrôlé", ("3.2.1", "3.2.2")),
    "7.5": ("Messages de statut restitués", ("4.1.3",)),
    "8.1": ("Type de document défini", ()),
    "8.2": ("Code source valide", ("4.1.2",)),
    "8.3": ("Langue par défaut présente", ("3.1.1",)),
    "8.4": ("Code de langue par défaut pertinent", ("3.1.1",)),
    "8.5": ("Titre de page présent", ("2.4.2",)),
    "8.6": ("Titre de page pertinent", ("2.4.2",)),
    "8.7": ("Changements de langue indiqués", ("3.1.2",)),
    "8.8": ("Code de langue des changements valide et pertinent", ("3.1.2",)),
    "8.9": ("Balises pas utilisées à des fins de présentation", ("1.3.1",)),
    "8.10": ("Changements du sens de lecture signalés", ("1.3.2",)),
    "9.1": ("Information structurée par des titres", ("1.3.1", "2.4.1", "2.4.6", "4.1.2")),
    "9.2": ("Structure du document cohérente", ("1.3.1",)),
    "9.3": ("Listes correctement structurées", ("1.3.1",)),
    "9.4": ("Citations correctement indiquées", ("1.3.1",)),
    "10.1": ("Présentation par feuilles de styles", ("1.3.1", "1.3.2")),
    "10.2": ("Contenu visible présent sans feuilles de styles", ("1.1.1", "1.3.1")),
    "10.3": ("Information compréhensible sans feuilles de styles", ("1.3.2", "2.4.3")),
    "10.4": ("Texte lisible agrandi à 200 %", ("1.4.4",)),
    "10.5": ("Couleurs de police et de fond déclarées ensemble", ("1.4.3",)),
    "10.6": ("Lien visible par rapport au texte environnant", ("1.4.1",)),
    "10.7": ("Prise de focus visible", ("1.4.1", "2.4.7")),
    "10.8": ("Contenus cachés ignorés par les aides techniques", ("1.3.2", "4.1.2")),
    "10.9": ("Information pas donnée par forme, taille ou position seule", ("1.3.3", "1.4.1")),
    "10.10": (
        "Information pas donnée par forme, taille ou position seule (code)",
        ("1.3.3", "1.4.1"),
    ),
    "10.11": ("Pas de défilement horizontal à 320 px (redistribution)", ("1.4.10",)),
    "10.12": ("Espacement du texte redéfinissable", ("1.4.12",)),
    "10.13": ("Contenus additionnels au survol ou au focus contrôlables", ("1.4.13",)),
    "10.14": ("Contenus additionnels par CSS accessibles au clavier", ("2.1.1",)),
    "11.1": ("Champ de formulaire avec une étiquette", ("1.3.1", "2.4.6", "3.3.2", "4.1.2")),
    "11.2": ("Étiquette pertinente", ("2.4.6", "2.5.3", "3.3.2")),
    "11.3": ("Étiquettes cohérentes pour une même fonction", ("3.2.4",)),
    "11.4": ("Étiquette et champ accolés", ("3.3.2",)),
    "11.5": ("Champs de même nature regroupés", ("1.3.1", "3.3.2")),
    "11.6": ("Regroupement de champs avec une légende", ("1.3.1", "3.3.2")),
    "11.7": ("Légende de regroupement pertinente", ("1.3.1", "3.3.2")),
    "11.8": ("Items de liste de choix regroupés", ("1.3.1",)),
    "11.9": ("Intitulé de bouton pertinent", ("2.5.3", "4.1.2")),
    "11.10": ("Contrôle de saisie pertinent", ("3.3.1", "3.3.2")),
    "11.11": ("Contrôle de saisie avec suggestions", ("3.3.3",)),
    "11.12": (
        "Données financières, juridiques ou personnelles : vérifier, modifier, confirmer",
        ("3.3.4",),
    ),
    "11.13": ("Finalité d'un champ déductible (remplissage automatique)", ("1.3.5",)),
    "12.1": ("Deux systèmes de navigation au moins", ("2.4.5",)),
    "12.2": ("Menus et barres de navigation toujours à la même place", ("3.2.3",)),
    "12.3": ("Plan du site pertinent", ("2.4.5",)),
    "12.4": ("Plan du site atteignable de manière identique", ("2.4.5", "3.2.3")),
    "12.5": ("Moteur de recherche atteignable de manière identique", ("3.2.3",)),
    "12.6": ("Zones de regroupement atteignables ou évitables", ("1.3.1", "2.4.1", "4.1.2")),
    "12.7": ("Lien d'évitement vers le contenu principal", ("2.4.1", "2.4.3", "3.2.3")),
    "12.8": ("Ordre de tabulation cohérent", ("2.4.3",)),
    "12.9": ("Pas de piège au clavier", ("2.1.1", "2.1.2")),
    "12.10": ("Raccourcis clavier à une touche contrôlables", ("2.1.4",)),
    "12.11": ("Contenus additionnels atteignables au clavier", ("2.1.1",)),
    "13.1": ("Limites de temps contrôlables", ("2.2.1", "2.2.2")),
    "13.2": ("Pas de nouvelle fenêtre sans action de l'utilisateur", ("3.2.1",)),
    "13.3": (
        "Document bureautique : version accessible",
        ("1.1.1", "1.3.1", "1.3.2", "2.4.1", "2.4.3", "3.1.1", "4.1.2"),
    ),
    "13.4": (
        "Version accessible d'un document : même information",
        ("1.1.1", "1.3.1", "1.3.2", "2.4.1", "2.4.3", "3.1.1", "4.1.2"),
    ),
    "13.5": ("Contenu cryptique : alternative", ("1.1.1",)),
    "13.6": ("Alternative de contenu cryptique pertinente", ("1.1.1",)),
    "13.7": ("Flashs et changements brusques de luminosité", ("2.3.1",)),
    "13.8": ("Contenu en mouvement ou clignotant contrôlable", ("2.2.1", "2.2.2")),
    "13.9": ("Contenu consultable dans toutes les orientations", ("1.3.4",)),
    "13.10": ("Geste complexe : alternative simple", ("2.5.1",)),
    "13.11": ("Action au pointeur annulable", ("2.5.2",)),
    "13.12": ("Mouvement de l'appareil : alternative", ("2.5.4",)),
}

# The 55 success criteria of WCAG 2.2 at levels A and AA: number, name, level.
WCAG: dict[str, tuple[str, str]] = {
    "1.1.1": ("Non-text Content", "A"),
    "1.2.1": ("Audio-only and Video-only (Prerecorded)", "A"),
    "1.2.2": ("Captions (Prerecorded)", "A"),
    "1.2.3": ("Audio Description or Media Alternative (Prerecorded)", "A"),
    "1.2.4": ("Captions (Live)", "AA"),
    "1.2.5": ("Audio Description (Prerecorded)", "AA"),
    "1.3.1": ("Info and Relationships", "A"),
    "1.3.2": ("Meaningful Sequence", "A"),
    "1.3.3": ("Sensory Characteristics", "A"),
    "1.3.4": ("Orientation", "AA"),
    "1.3.5": ("Identify Input Purpose", "AA"),
    "1.4.1": ("Use of Color", "A"),
    "1.4.2": ("Audio Control", "A"),
    "1.4.3": ("Contrast (Minimum)", "AA"),
    "1.4.4": ("Resize Text", "AA"),
    "1.4.5": ("Images of Text", "AA"),
    "1.4.10": ("Reflow", "AA"),
    "1.4.11": ("Non-text Contrast", "AA"),
    "1.4.12": ("Text Spacing", "AA"),
    "1.4.13": ("Content on Hover or Focus", "AA"),
    "2.1.1": ("Keyboard", "A"),
    "2.1.2": ("No Keyboard Trap", "A"),
    "2.1.4": ("Character Key Shortcuts", "A"),
    "2.2.1": ("Timing Adjustable", "A"),
    "2.2.2": ("Pause, Stop, Hide", "A"),
    "2.3.1": ("Three Flashes or Below Threshold", "A"),
    "2.4.1": ("Bypass Blocks", "A"),
    "2.4.2": ("Page Titled", "A"),
    "2.4.3": ("Focus Order", "A"),
    "2.4.4": ("Link Purpose (In Context)", "A"),
    "2.4.5": ("Multiple Ways", "AA"),
    "2.4.6": ("Headings and Labels", "AA"),
    "2.4.7": ("Focus Visible", "AA"),
    "2.4.11": ("Focus Not Obscured (Minimum)", "AA"),
    "2.5.1": ("Pointer Gestures", "A"),
    "2.5.2": ("Pointer Cancellation", "A"),
    "2.5.3": ("Label in Name", "A"),
    "2.5.4": ("Motion Actuation", "A"),
    "2.5.7": ("Dragging Movements", "AA"),
    "2.5.8": ("Target Size (Minimum)", "AA"),
    "3.1.1": ("Language of Page", "A"),
    "3.1.2": ("Language of Parts", "AA"),
    "3.2.1": ("On Focus", "A"),
    "3.2.2": ("On Input", "A"),
    "3.2.3": ("Consistent Navigation", "AA"),
    "3.2.4": ("Consistent Identification", "AA"),
    "3.2.6": ("Consistent Help", "A"),
    "3.3.1": ("Error Identification", "A"),
    "3.3.2": ("Labels or Instructions", "A"),
    "3.3.3": ("Error Suggestion", "AA"),
    "3.3.4": ("Error Prevention (Legal, Financial, Data)", "AA"),
    "3.3.7": ("Redundant Entry", "A"),
    "3.3.8": ("Accessible Authentication (Minimum)", "AA"),
    "4.1.2": ("Name, Role, Value", "A"),
    "4.1.3": ("Status Messages", "AA"),
}


def number_key(number: str) -> list[int]:
    """« 10.11 » after « 10.4 »."""
    return [int(part) for part in number.split(".")]


def _wcag_number(value: str) -> str:
    """« 1.4.10 » from « 1.4.10 » or axe's tag « wcag1410 »."""
    if not value.startswith("wcag"):
        return value
    digits = value[4:]
    return f"{digits[0]}.{digits[1]}.{digits[2:]}"


def check_criteria(key: str, check: dict) -> tuple[set[str], set[str]]:
    """The RGAA criteria and WCAG A/AA success criteria one recorded check covered."""
    entry = CHECKS.get(key)
    rgaa = set(entry.rgaa) if entry else set()
    wcag = set(entry.wcag) if entry else set()
    if key == "axe":
        tests = check.get("rgaa_criteria", [])  # RGAA tests, « 11.1.1 »
        rgaa |= {".".join(test.split(".")[:2]) for test in tests}
        tags = check.get("wcag_criteria") or check.get("wcag_tags")
        if tags:  # recorded from axe's wcagNNN tags
            wcag |= {_wcag_number(tag) for tag in tags}
        else:
            wcag |= {sc for test in tests for sc in AXE_TEST_WCAG.get(test, ())}
    return rgaa & RGAA.keys(), wcag & WCAG.keys()


def record_criteria(record: dict) -> tuple[list[str], list[str]]:
    """The RGAA criteria and WCAG success criteria a state visit's checks covered."""
    rgaa: set[str] = set()
    wcag: set[str] = set()
    for key, check in record["checks"].items():
        found_rgaa, found_wcag = check_criteria(key, check)
        rgaa |= found_rgaa
        wcag |= found_wcag
    return sorted(rgaa, key=number_key), sorted(wcag, key=number_key)


class Manual(NamedTuple):
    rgaa: dict[str, list[int]]  # RGAA criterion → checklist items naming it
    wcag: dict[str, list[int]]  # WCAG success criterion → checklist items naming it


def manual_checklist(path: Path = MANUAL_CHECKLIST) -> Manual:
    """The criteria each item of the manual checklist names, from its « RGAA » column.

    « 11.2 (2.5.3) » names RGAA 11.2 and, in brackets, WCAG 2.5.3; « — » names none.
    """
    rgaa: dict[str, list[int]] = {}
    wcag: dict[str, list[int]] = {}
    columns: list[str] | None = None
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for line in text.splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if columns is None:
            columns = cells
            continue
        if "RGAA" not in columns or "#" not in columns or set("".join(cells)) <= set("-: "):
            continue
        item = int(cells[columns.index("#")])
        cell = cells[columns.index("RGAA")]
        for bracket in re.findall(r"\(([^)]*)\)", cell):
            for number in re.findall(r"\b\d+\.\d+\.\d+\b", bracket):
                wcag.setdefault(number, []).append(item)
        for number in re.findall(r"\b\d+\.\d+\b", re.sub(r"\([^)]*\)", "", cell)):
            rgaa.setdefault(number, []).append(item)
    return Manual(rgaa, wcag)


def coverage(records: list[dict], manual: Manual | None = None) -> dict:
    """Each RGAA criterion and WCAG A/AA success criterion: checked by the suite (by
    which checks, on how many state visits), in the manual checklist, or neither."""
    manual = manual_checklist() if manual is None else manual
    found: dict[str, dict[str, dict]] = {"rgaa": {}, "wcag": {}}
    for record in records:
        seen: dict[str, dict[str, bool]] = {"rgaa": {}, "wcag": {}}
        for key, check in record["checks"].items():
            failed = check.get("outcome") != "passed"
            for kind, numbers in zip(("rgaa", "wcag"), check_criteria(key, check), strict=True):
                for number in numbers:
                    entry = found[kind].setdefault(number, {"checks": {}})
                    entry["checks"][key] = entry["checks"].get(key, 0) + 1
                    seen[kind][number] = seen[kind].get(number, False) or failed
        for kind, numbers in seen.items():
            for number, failed in numbers.items():
                entry = found[kind][number]
                entry["visits"] = entry.get("visits", 0) + 1
                entry["failed_visits"] = entry.get("failed_visits", 0) + failed

    # WCAG in the checklist: named in brackets, or referenced by a named RGAA criterion.
    manual_wcag: dict[str, list[str]] = {}
    for number, items in manual.wcag.items():
        manual_wcag.setdefault(number, []).extend(f"{item}" for item in items)
    for criterion, items in manual.rgaa.items():
        for number in RGAA.get(criterion, ("", ()))[1]:
            manual_wcag.setdefault(number, []).extend(
                f"{item} (RGAA {criterion})" for item in items
            )

    def rows(kind: str, reference: dict, in_manual: dict) -> list[dict]:
        table = []
        for number in sorted(reference, key=number_key):
            auto = found[kind].get(number)
            items = in_manual.get(number, [])
            status = "automatic" if auto else "manual" if items else "not covered"
            row = {"number": number, "status": status}
            if kind == "rgaa":
                row["title"] = reference[number][0]
            else:
                row["name"], row["level"] = reference[number]
            row.update(
                {
                    "checks": dict(sorted(auto["checks"].items())) if auto else {},
                    "visits": auto["visits"] if auto else 0,
                    "failed_visits": auto["failed_visits"] if auto else 0,
                    "manual_items": list(dict.fromkeys(str(item) for item in items)),
                }
            )
            table.append(row)
        return table

    def totals(table: list[dict]) -> dict:
        return {
            "criteria": len(table),
            "automatic": sum(row["status"] == "automatic" for row in table),
            "manual": sum(bool(row["manual_items"]) for row in table),
            "manual_only": sum(row["status"] == "manual" for row in table),
            "automatic_and_manual": sum(
                row["status"] == "automatic" and bool(row["manual_items"]) for row in table
            ),
            "not_covered": sum(row["status"] == "not covered" for row in table),
        }

    rgaa_rows = rows("rgaa", RGAA, manual.rgaa)
    wcag_rows = rows("wcag", WCAG, manual_wcag)
    return {
        "rgaa": rgaa_rows,
        "wcag": wcag_rows,
        "totals": {"rgaa": totals(rgaa_rows), "wcag": totals(wcag_rows)},
    }
