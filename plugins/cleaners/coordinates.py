"""Coordinates: unknown zeros, swapped or sign-lost pairs, UTM converted, state bounds.

For each latitude/longitude pair: a 0 means "unknown" (Utah writes 0 where the position
is in its UTM columns) and becomes empty; a pair whose values only make sense the other
way round is swapped; a US longitude that lost its minus sign gets it back; each is
recorded as fixed. Where a pair is empty and UTM easting/northing are present, they are
converted (zone from the ``utm_zone`` column or the source's ``utm_zone`` option) and
the ``datum`` column says which datum the numbers are in: the source's (``NAD83`` by
default, ``NAD27`` when it says so; no datum shift is applied, the datum is recorded). A
position outside the row's state is a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ogcrm_plugins.cleaners._reference import STATE_BOUNDS, US_BOUNDS

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import CleanContext, Cleaner, IssueLog

_PAIRS = (("latitude", "longitude"), ("bh_latitude", "bh_longitude"))
# GRS 80 (NAD83); WGS 84 differs by 0.1 mm in the semi-minor axis
_A = 6378137.0
_F = 1 / 298.257222101


def utm_to_lat_lon(
    easting: np.ndarray, northing: np.ndarray, zone: np.ndarray, *, north: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse transverse Mercator (Snyder 1987, eq. 8-12 to 8-18), vectorized."""
    k0 = 0.9996
    e2 = _F * (2 - _F)
    ep2 = e2 / (1 - e2)
    x = easting - 500_000.0
    y = northing if north else northing - 10_000_000.0
    mu = (y / k0) / (_A * (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256))
    e1 = (1 - np.sqrt(1 - e2)) / (1 + np.sqrt(1 - e2))
    phi1 = (
        mu
        + (3 * e1 / 2 - 27 * e1**3 / 32) * np.sin(2 * mu)
        + (21 * e1**2 / 16 - 55 * e1**4 / 32) * np.sin(4 * mu)
        + (151 * e1**3 / 96) * np.sin(6 * mu)
        + (1097 * e1**4 / 512) * np.sin(8 * mu)
    )
    sin1, cos1, tan1 = np.sin(phi1), np.cos(phi1), np.tan(phi1)
    n1 = _A / np.sqrt(1 - e2 * sin1**2)
    t1 = tan1**2
    c1 = ep2 * cos1**2
    r1 = _A * (1 - e2) / (1 - e2 * sin1**2) ** 1.5
    d = x / (n1 * k0)
    lat = phi1 - (n1 * tan1 / r1) * (
        d**2 / 2
        - (5 + 3 * t1 + 10 * c1 - 4 * c1**2 - 9 * ep2) * d**4 / 24
        + (61 + 90 * t1 + 298 * c1 + 45 * t1**2 - 252 * ep2 - 3 * c1**2) * d**6 / 720
    )
    lon = (
        d
        - (1 + 2 * t1 + c1) * d**3 / 6
        + (5 - 2 * c1 + 28 * t1 - 3 * c1**2 + 8 * ep2 + 24 * t1**2) * d**5 / 120
    ) / cos1
    return np.degrees(lat), zone * 6.0 - 183.0 + np.degrees(lon)


def _inside(lat: pd.Series, lon: pd.Series, box: tuple[float, float, float, float]) -> pd.Series:
    return lat.between(box[0], box[1]) & lon.between(box[2], box[3])


class CoordinateCleaner(Cleaner):
    name = "coordinates"
    kinds = ("latitude", "longitude", "utm_easting", "utm_northing", "utm_zone", "datum")

    def clean(
        self, frame: pd.DataFrame, context: CleanContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        out = frame.copy(deep=False)  # copy-on-write: the caller's frame stays as it was
        log = IssueLog(self.name)
        datum = str(context.options.get("datum", "NAD83")).upper()
        for lat_col, lon_col in _PAIRS:
            if lat_col not in out or lon_col not in out:
                continue
            raw_lat, raw_lon = out[lat_col], out[lon_col]
            lat, lon = _number(raw_lat), _number(raw_lon)
            for col, raw, values in ((lat_col, raw_lat, lat), (lon_col, raw_lon, lon)):
                bad = raw.notna() & values.isna()
                log.add(bad, col, raw, None, "error", "not a number")
                zero = values == 0
                log.add(zero, col, raw, None, "fixed", "0 means the position is unknown")
            unknown = (lat == 0) | (lon == 0)
            lat, lon = lat.mask(unknown), lon.mask(unknown)
            us = US_BOUNDS
            swapped = ~_inside(lat, lon, us) & _inside(lon, lat, us)
            log.add(swapped, lat_col, raw_lat, lon, "fixed", "latitude and longitude were swapped")
            lat, lon = lat.where(~swapped, lon), lon.where(~swapped, lat)
            unsigned = ~_inside(lat, lon, us) & _inside(lat, -lon, us)
            log.add(unsigned, lon_col, raw_lon, -lon, "fixed", "longitude sign restored (west)")
            lon = lon.where(~unsigned, -lon)
            if lat_col == "latitude" and {"utm_easting", "utm_northing"} <= set(out.columns):
                lat, lon = self._from_utm(
                    out, lat, lon, datum, context.options.get("utm_zone"), log
                )
            self._check_state(out, context, lat_col, lat, lon, log)
            out[lat_col], out[lon_col] = lat.astype("float64"), lon.astype("float64")
        if "latitude" in out:
            given = out["datum"] if "datum" in out else pd.Series(None, index=out.index)
            has_position = out["latitude"].notna()
            out["datum"] = given.where(given.notna(), np.where(has_position, datum, None))
        return out, log.frame()

    @staticmethod
    def _from_utm(
        out: pd.DataFrame,
        lat: pd.Series,
        lon: pd.Series,
        datum: str,
        default_zone: object,
        log: IssueLog,
    ) -> tuple[pd.Series, pd.Series]:
        east, north = _number(out["utm_easting"]), _number(out["utm_northing"])
        zone = pd.Series(float(default_zone or "nan"), index=out.index)
        if "utm_zone" in out:
            zone = pd.to_numeric(out["utm_zone"], errors="coerce").fillna(zone)
        usable = lat.isna() & lon.isna() & (east > 0) & (north > 0) & zone.between(1, 60)
        if not usable.any():
            return lat, lon
        la, lo = utm_to_lat_lon(
            east[usable].to_numpy(), north[usable].to_numpy(), zone[usable].to_numpy()
        )
        lat, lon = lat.copy(), lon.copy()
        lat[usable], lon[usable] = la, lo
        message = (
            "converted from UTM zone " + zone.fillna(0).astype(int).astype(str) + f" ({datum})"
        )
        log.add(usable, "latitude", out["utm_northing"], lat, "fixed", message)
        log.add(usable, "longitude", out["utm_easting"], lon, "fixed", message)
        return lat, lon

    @staticmethod
    def _check_state(
        out: pd.DataFrame,
        context: CleanContext,
        lat_col: str,
        lat: pd.Series,
        lon: pd.Series,
        log: IssueLog,
    ) -> None:
        if "state" in out:
            state = out["state"].fillna(context.state or "")
        else:
            state = pd.Series(context.state or "", index=out.index)
        for usps in state.unique():
            box = STATE_BOUNDS.get(usps)
            if box is None:
                continue
            outside = (state == usps) & lat.notna() & ~_inside(lat, lon, box)
            log.add(outside, lat_col, lat, lat, "warning", f"position is outside {usps}")


def _number(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    return pd.to_numeric(values, errors="coerce")


@hookimpl
def ogcrm_register_cleaners() -> list[type[Cleaner]]:
    return [CoordinateCleaner]
