<?php
/**
 * The wp-admin dashboard widget: today's visitors, conversions, conversion rate and revenue.
 *
 * @package Goalpost
 */

namespace Goalpost;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Reads today's KPIs from Goalpost's /graphql with the site key, cached a few minutes.
 */
final class Dashboard_Widget {

	const CACHE_KEY = 'goalpost_widget_stats';
	const CACHE_TTL = 5 * MINUTE_IN_SECONDS;

	/**
	 * Registers the hook.
	 */
	public function register(): void {
		add_action( 'wp_dashboard_setup', array( $this, 'add' ) );
	}

	/**
	 * Adds the widget for those who may see the site's analytics.
	 */
	public function add(): void {
		if ( current_user_can( 'manage_options' ) && Config::can_send() ) {
			wp_add_dashboard_widget( 'goalpost_today', __( 'Goalpost: today', 'goalpost' ), array( $this, 'render' ) );
		}
	}

	/**
	 * Draws the widget.
	 */
	public function render(): void {
		$stats = $this->stats();
		echo '<div class="goalpost-widget">';
		if ( isset( $stats['error'] ) ) {
			/* translators: %s: why reading failed */
			echo '<p>' . esc_html( sprintf( __( 'Could not read today\'s numbers: %s', 'goalpost' ), $stats['error'] ) ) . '</p>';
		} else {
			$revenue = array();
			foreach ( $stats['revenue'] as $money ) {
				$revenue[] = $money['amount'] . ' ' . $money['currency'];
			}
			$rows = array(
				'visitors'        => array( __( 'Visitors', 'goalpost' ), number_format_i18n( (int) $stats['visitors'] ) ),
				'conversions'     => array( __( 'Conversions', 'goalpost' ), number_format_i18n( (int) $stats['conversions'] ) ),
				'conversion-rate' => array( __( 'Conversion rate', 'goalpost' ), number_format_i18n( (float) $stats['conversionRate'], 1 ) . ' %' ),
				'revenue'         => array( __( 'Revenue', 'goalpost' ), $revenue ? implode( ', ', $revenue ) : '—' ),
			);
			echo '<table class="widefat striped"><tbody>';
			foreach ( $rows as $class => $row ) {
				echo '<tr class="goalpost-' . esc_attr( $class ) . '"><th scope="row">' . esc_html( $row[0] ) . '</th><td>' . esc_html( $row[1] ) . '</td></tr>';
			}
			echo '</tbody></table>';
		}
		echo '<p><a href="' . esc_url( Config::url() . '/' ) . '" target="_blank" rel="noopener">' . esc_html__( 'Open the Goalpost dashboard', 'goalpost' ) . '</a></p></div>';
	}

	/**
	 * Today's KPIs in the site's time zone, from the cache when fresh.
	 *
	 * @return array Kpis fields, or {error}.
	 */
	private function stats(): array {
		$cache_id = md5( Config::url() . '|' . Config::site() . '|' . Config::api_key() );
		$cached   = get_transient( self::CACHE_KEY );
		if ( is_array( $cached ) && isset( $cached['id'], $cached['stats'] ) && $cached['id'] === $cache_id ) {
			return $cached['stats'];
		}
		$stats = $this->fetch();
		if ( ! isset( $stats['error'] ) ) {
			set_transient(
				self::CACHE_KEY,
				array(
					'id'    => $cache_id,
					'stats' => $stats,
				),
				self::CACHE_TTL
			);
		}
		return $stats;
	}

	/**
	 * Two queries: the key's site (its id and time zone), then its KPIs for today there.
	 */
	private function fetch(): array {
		$sites = $this->graphql( 'query { sites { id domain timezone } }', array() );
		if ( isset( $sites['error'] ) ) {
			return $sites;
		}
		$site = null;
		foreach ( (array) $sites['sites'] as $candidate ) {
			if ( isset( $candidate['domain'] ) && strtolower( $candidate['domain'] ) === strtolower( Config::site() ) ) {
				$site = $candidate;
			}
		}
		if ( null === $site ) {
			return array( 'error' => __( 'the key does not belong to this site.', 'goalpost' ) );
		}
		try {
			$zone = new \DateTimeZone( (string) $site['timezone'] );
		} catch ( \Exception $e ) {
			$zone = new \DateTimeZone( 'UTC' );
		}
		$from = new \DateTimeImmutable( 'today', $zone );
		$data = $this->graphql(
			'query ($siteId: ID!, $range: DateRange) { kpis(siteId: $siteId, range: $range) { visitors conversions conversionRate revenue { amount currency } } }',
			array(
				'siteId' => $site['id'],
				'range'  => array(
					'from' => $from->format( 'c' ),
					'to'   => $from->modify( '+1 day' )->format( 'c' ),
				),
			)
		);
		return isset( $data['error'] ) ? $data : $data['kpis'];
	}

	/**
	 * One GraphQL request with the site key.
	 *
	 * @param string $query     The document.
	 * @param array  $variables Its variables.
	 * @return array The data, or {error}.
	 */
	private function graphql( string $query, array $variables ): array {
		$response = wp_remote_post(
			Config::url() . '/graphql',
			array(
				'timeout' => 3,
				'headers' => array(
					'Content-Type'  => 'application/json',
					'Authorization' => 'Bearer ' . Config::api_key(),
				),
				'body'    => wp_json_encode(
					array(
						'query'     => $query,
						'variables' => (object) $variables,
					)
				),
			)
		);
		if ( is_wp_error( $response ) ) {
			return array( 'error' => $response->get_error_message() );
		}
		$body = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		if ( ! is_array( $body ) ) {
			return array( 'error' => (string) wp_remote_retrieve_response_code( $response ) );
		}
		if ( ! empty( $body['errors'][0]['message'] ) ) {
			return array( 'error' => (string) $body['errors'][0]['message'] );
		}
		return isset( $body['data'] ) && is_array( $body['data'] ) ? $body['data'] : array( 'error' => __( 'empty answer', 'goalpost' ) );
	}
}
